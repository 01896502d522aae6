import { formatDuration, truncateChars } from '../render/common.js';
import { codeSpan, escapeInline } from '../render/markdown.js';
import { FAILURE_CLASSES, STAGES, type EvalReport, type FailureClass } from './report.js';

const CLASS_NAMES: Record<FailureClass, string> = {
  syntax: 'syntax error',
  import: 'import (no solution.py, a missing name, an error at import)',
  'test-failure': 'test failure',
  timeout: 'timeout',
  'unusable-output': 'unusable model output',
  'token-budget': 'token budget spent',
};

/** How many unsolved problems the table lists before it says how many more there are. */
const MAX_LISTED = 60;

const int = (n: number) => n.toLocaleString('en-US');
const percent = (part: number, whole: number) => (whole ? `${((100 * part) / whole).toFixed(1)}%` : 'n/a');
const usd = (value: number) => `$${value < 1 ? value.toFixed(4) : value.toFixed(2)}`;

/** One report as markdown, ready to paste into an issue: the figures, time per stage, failure classes, unsolved problems. */
export function renderReport(report: EvalReport): string {
  const n = report.problems;
  const uplift = report.passedFinal - report.passedFirst;
  const rows: Array<[string, string]> = [
    ['pass@1, first answer (`passedFirst`)', `**${report.passedFirst} / ${n} (${percent(report.passedFirst, n)})**`],
    [`pass@1 within ${report.attempts} ${report.attempts === 1 ? 'attempt' : 'attempts'} (\`passedFinal\`)`, `**${report.passedFinal} / ${n} (${percent(report.passedFinal, n)})**`],
    ['repair uplift', `${signed(uplift)} ${uplift === 1 || uplift === -1 ? 'problem' : 'problems'} (${signed(n ? (100 * uplift) / n : 0, 1)} points)`],
    ["the pipeline's own validation passed", `${report.validationPassed} / ${n}`],
    [
      'tests the model wrote',
      `${int(report.modelTests.cases)} in ${report.modelTests.problems} problems, ${int(report.modelTests.casesPassed)} passed; all passed in ${report.modelTests.allPassed} problems`,
    ],
    ["model's tests passed, hidden tests failed", `${report.modelTests.passedButHiddenFailed}`],
    ["mutation score of the model's tests", mutationCell(report.mutation)],
    ['clarifying questions asked (went ahead with assumptions)', `${report.askedQuestions}`],
    ['answers asked for', `${report.attemptsUsed} (${n ? (report.attemptsUsed / n).toFixed(2) : '0'} per problem)`],
    ['tokens', `${int(report.tokens.total)} (${int(report.tokens.prompt)} prompt, ${int(report.tokens.completion)} completion) in ${int(report.tokens.calls)} calls`],
    [
      'estimated cost',
      report.cost
        ? `${usd(report.cost.usd)} (as ${codeSpan(report.cost.listedAs)}: $${report.cost.input} / $${report.cost.output} per million input / output tokens)`
        : `n/a (no price known for ${codeSpan(report.model)}; give \`--price IN/OUT\`)`,
    ],
    ['time', `${formatDuration(report.durationMs)} wall clock; median ${formatDuration(report.timeMs.medianPerProblem)} per problem`],
  ];
  const stageTotal = STAGES.reduce((sum, s) => sum + report.timeMs[s], 0);
  const unsolved = report.results.filter((r) => !r.passedFinal);
  const failing = FAILURE_CLASSES.filter((c) => (report.failures[c] ?? 0) > 0);
  const sections = [
    `### Code4Py eval: ${codeSpan(report.model)} on ${escapeInline(report.dataset.file)}`,
    `${n} of ${report.dataset.problems} problems, up to ${report.attempts} ${report.attempts === 1 ? 'attempt' : 'attempts'} each; model at ${escapeInline(report.endpoint)}, prompts ${escapeInline(report.promptVersion)}, started ${escapeInline(report.startedAt)}.` +
      (report.complete ? '' : `\n\n**Partial report:** the run stopped after ${n} of the problems it was given; run the same command again to resume.`),
    table(['measure', 'value'], rows),
    table(
      ['stage', 'time (all problems)', 'share'],
      STAGES.map((s) => [s, formatDuration(report.timeMs[s]), percent(report.timeMs[s], stageTotal)]),
    ),
    failing.length
      ? table(['why the final answer fails the hidden tests', 'problems'], failing.map((c) => [CLASS_NAMES[c], `${report.failures[c]}`]))
      : 'Every final answer passes the hidden tests.',
  ];
  if (unsolved.length) {
    const listed = unsolved.slice(0, MAX_LISTED);
    sections.push(
      `<details><summary>Problems not solved (${unsolved.length})</summary>\n\n` +
        table(
          ['problem', 'first', 'final', 'answers', 'class', 'detail'],
          listed.map((r) => [escapeInline(r.taskId), mark(r.passedFirst), mark(r.passedFinal), `${r.attempts}`, r.failure ?? '', escapeInline(truncateChars(r.detail ?? '', 120))]),
        ) +
        (unsolved.length > listed.length ? `\n\n…and ${unsolved.length - listed.length} more (see the JSON report).` : '') +
        '\n\n</details>',
    );
  }
  return `${sections.join('\n\n')}\n`;
}

/** Reports side by side (`code4py eval --compare a.json b.json`), and the problems only one of them solved. */
export function renderComparison(reports: ReadonlyArray<{ name: string; report: EvalReport }>): string {
  const cells = (f: (r: EvalReport) => string) => reports.map(({ report }) => f(report));
  const rows: string[][] = [
    ['model', ...cells((r) => codeSpan(r.model))],
    ['endpoint', ...cells((r) => escapeInline(r.endpoint))],
    ['problems', ...cells((r) => `${r.problems}${r.complete ? '' : ' (partial)'}`)],
    ['attempts (K)', ...cells((r) => `${r.attempts}`)],
    ['pass@1, first answer', ...cells((r) => `**${percent(r.passedFirst, r.problems)}** (${r.passedFirst})`)],
    ['pass@1 within K attempts', ...cells((r) => `**${percent(r.passedFinal, r.problems)}** (${r.passedFinal})`)],
    ['repair uplift', ...cells((r) => `${signed(r.problems ? (100 * (r.passedFinal - r.passedFirst)) / r.problems : 0, 1)} points`)],
    ['own validation passed', ...cells((r) => percent(r.validationPassed, r.problems))],
    ["model's tests all passed", ...cells((r) => percent(r.modelTests.allPassed, r.problems))],
    ["model's tests passed, hidden failed", ...cells((r) => `${r.modelTests.passedButHiddenFailed}`)],
    ['mutation score, before → after strengthening', ...cells((r) => mutationCell(r.mutation))],
    ['tokens per problem', ...cells((r) => int(Math.round(r.problems ? r.tokens.total / r.problems : 0)))],
    ['estimated cost', ...cells((r) => (r.cost ? usd(r.cost.usd) : 'n/a'))],
    ['median time per problem', ...cells((r) => formatDuration(r.timeMs.medianPerProblem))],
    ...FAILURE_CLASSES.map((c) => [`failed: ${c}`, ...cells((r) => `${r.failures[c] ?? 0}`)]),
  ];
  const sections = [`### Code4Py eval: comparison`, table(['', ...reports.map((r) => escapeInline(r.name))], rows)];
  const datasets = new Set(reports.map((r) => r.report.dataset.sha256));
  if (datasets.size > 1) sections.push('⚠️ These reports ran on different data files: their figures are not comparable problem for problem.');
  const solved = reports.map(({ report }) => new Set(report.results.filter((r) => r.passedFinal).map((r) => r.taskId)));
  const ran = reports.map(({ report }) => new Set(report.results.map((r) => r.taskId)));
  const common = [...ran[0]!].filter((id) => ran.every((set) => set.has(id)));
  if (common.length < Math.max(...ran.map((s) => s.size))) sections.push(`The lists below cover the ${common.length} problems every report ran.`);
  reports.forEach(({ name }, i) => {
    const only = common.filter((id) => solved[i]!.has(id) && solved.every((set, j) => j === i || !set.has(id)));
    sections.push(`Solved only by ${escapeInline(name)} (${only.length})${only.length ? `: ${only.slice(0, MAX_LISTED).map(escapeInline).join(', ')}${only.length > MAX_LISTED ? ', …' : ''}` : ''}`);
  });
  return `${sections.join('\n\n')}\n`;
}

function table(header: readonly string[], rows: ReadonlyArray<readonly string[]>): string {
  return [`| ${header.join(' | ')} |`, `| ${header.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

function signed(value: number, digits = 0): string {
  const text = value.toFixed(digits);
  return value > 0 ? `+${text}` : text;
}

function mark(passed: boolean): string {
  return passed ? 'pass' : 'fail';
}

/** `78.4% → 91.2% (12 problems; strengthened in 5)`, or n/a when no problem had a mutation score. */
function mutationCell(m: EvalReport['mutation']): string {
  if (m.problems === 0 || m.meanBefore === null || m.meanAfter === null) return 'n/a';
  return `${m.meanBefore}% → ${m.meanAfter}% (mean of ${m.problems} ${m.problems === 1 ? 'problem' : 'problems'}; strengthened in ${m.strengthened})`;
}
