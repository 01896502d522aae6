import {
  STAGE_NAMES, sortFindings, type Finding, type Report, type Severity, type StageResult, type StageStatus,
} from '../validate/report.js';
import {
  failedTestDetails, fileOf, formatDuration, formatTestCounts, plural, splitReport, stripControl, type FailedTest,
} from './common.js';
import { changeFigures, countFindings, isPreExisting } from './figures.js';

export interface TextOptions {
  /** ANSI colours, for a terminal that shows them; the caller decides (TTY, NO_COLOR, --color). */
  color?: boolean;
}

type Style = 'red' | 'green' | 'yellow' | 'cyan' | 'dim' | 'bold';
type Paint = (style: Style, text: string) => string;
const ANSI: Record<Style, string> = { red: '31', green: '32', yellow: '33', cyan: '36', dim: '2', bold: '1' };

const SYMBOLS: Record<StageStatus, string> = { passed: '✔', failed: '✖', warning: '⚠', skipped: '○', error: '✖' };
const STATUS_STYLES: Record<StageStatus, Style> = {
  passed: 'green', failed: 'red', warning: 'yellow', skipped: 'dim', error: 'red',
};
const SEVERITY_STYLES: Record<Severity, Style> = { error: 'red', warning: 'yellow', info: 'cyan' };
const NAME_WIDTH = Math.max(...STAGE_NAMES.map((name) => name.length));
const STATUS_WIDTH = Math.max(...Object.keys(SYMBOLS).map((status) => status.length));
// The end of a traceback holds the assertion; the rest is in the JSON report.
const TRACEBACK_LINES = 20;

/** The `code4py validate` output for people: stages, findings (`path:line:col:`), failed tests, verdict. */
export function renderText(report: Report, options: TextOptions = {}): string {
  const paint: Paint = options.color === true ? (style, text) => `\x1b[${ANSI[style]}m${text}\x1b[0m` : (_, text) => text;
  const { failedTests, stages } = splitReport(report);
  // Judged as a change (--base): what was there at the base already is counted, not listed, and a test that
  // failed there too is named among the change's figures, without its traceback.
  const scoped = report.base !== undefined;
  const stillFailing = new Set(report.tests.stillFailing ?? []);
  const findings = sortFindings(stages.flatMap((s) => s.findings).filter((f) => !(scoped && isPreExisting(f))));
  const blocks = [
    report.stages.map((s) => stageLine(s, paint)).join('\n'),
    scoped ? changeBlock(report, paint) : '',
    findings.map((f) => findingLine(f, paint)).join('\n'),
    failedTests.filter((t) => !stillFailing.has(t.testCase.id)).map((t) => failedTestBlock(t, paint)).join('\n'),
    verdictLine(report, paint),
  ];
  return `${blocks.filter((b) => b !== '').join('\n\n')}\n`;
}

/** The change-scoped figures (evidence, patch coverage, mutation, regressions), and what the base already had. */
function changeBlock(report: Report, paint: Paint): string {
  const lines = [`judged as a change on top of ${report.base!.slice(0, 12)}:`, ...changeFigures(report).map((line) => `  ${oneLine(line)}`)];
  const { preExisting } = countFindings(report);
  if (preExisting > 0) lines.push(paint('dim', `  ${plural(preExisting, 'finding')} ${preExisting === 1 ? 'was' : 'were'} there at the base already: not counted, not listed (--json has them)`));
  return lines.join('\n');
}

function stageLine(stage: StageResult, paint: Paint): string {
  const style = STATUS_STYLES[stage.status];
  const status = paint(style, stage.status.padEnd(STATUS_WIDTH));
  const line = `${paint(style, SYMBOLS[stage.status])} ${stage.name.padEnd(NAME_WIDTH)}  ${status}`;
  const summary = oneLine(stage.summary);
  return summary === '' ? line.trimEnd() : `${line}  ${summary}`;
}

/** `path:line:col: severity rule message`, the shape compilers print and editors jump to. */
function findingLine(finding: Finding, paint: Paint): string {
  const path = oneLine(fileOf(finding) ?? '');
  let place = path;
  if (path !== '' && finding.line > 0) {
    place = `${path}:${finding.line}`;
    if (finding.column !== undefined && finding.column > 0) place += `:${finding.column}`;
  }
  const rest = [paint(SEVERITY_STYLES[finding.severity], finding.severity), oneLine(finding.rule), oneLine(finding.message)]
    .filter((part) => part !== '')
    .join(' ');
  return place === '' ? rest : `${place}: ${rest}`;
}

function failedTestBlock(failed: FailedTest, paint: Paint): string {
  const { testCase } = failed;
  const [first = '', ...more] = stripControl(testCase.message ?? '').trim().split('\n');
  const verb = testCase.outcome === 'error' ? 'error' : 'failed';
  const head = `${paint('red', '✖')} ${oneLine(testCase.id)} ${paint('red', verb)}${first === '' ? '' : `: ${oneLine(first)}`}`;
  const traceback = failedTestDetails(failed) ?? more.join('\n');
  return [head, ...tail(stripControl(traceback).replace(/^\n+|\s+$/g, ''), paint)].join('\n');
}

function tail(text: string, paint: Paint): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  const shown = lines.slice(-TRACEBACK_LINES).map((line) => `    ${line}`.trimEnd());
  const cut = lines.length - TRACEBACK_LINES;
  return cut > 0 ? [paint('dim', `    … ${cut} more ${cut === 1 ? 'line' : 'lines'} above`), ...shown] : shown;
}

function verdictLine(report: Report, paint: Paint): string {
  const verdict = report.passed ? paint('green', 'PASSED') : paint('red', 'FAILED');
  return `${paint('bold', verdict)}: ${formatTestCounts(report.tests)} in ${formatDuration(report.durationMs)}`;
}

/** Report text on one line, with nothing a terminal would act on. */
function oneLine(text: string): string {
  return stripControl(text).replace(/\s*\n\s*/g, ' ').trim();
}
