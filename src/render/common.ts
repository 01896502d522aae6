import type { Finding, Report, StageName, TestCase } from '../validate/report.js';

/**
 * The tests' outcome. `counts` (reports, the terminal): `3 passed, 1 failed`, plus errors, skipped and a
 * time-out when there are any. `headline` (titles, the status comment): `5 tests passed`, followed only by
 * what went wrong — `3 tests passed, 2 failed, 1 error, timed out`.
 */
export function formatTestCounts(tests: Report['tests'], style: 'counts' | 'headline' = 'counts'): string {
  const headline = style === 'headline';
  const parts = [headline ? `${plural(tests.passed, 'test')} passed` : `${tests.passed} passed`];
  if (!headline || tests.failed > 0) parts.push(`${tests.failed} failed`);
  if (tests.errors > 0) parts.push(plural(tests.errors, 'error'));
  if (!headline && tests.skipped > 0) parts.push(`${tests.skipped} skipped`);
  if (tests.timedOut) parts.push('timed out');
  return parts.join(', ');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 59_950) return `${(ms / 1000).toFixed(1)} s`; // not "60.0 s"
  const seconds = Math.round(ms / 1000);
  return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
}

/** `87.5%`: one decimal at most. */
export function formatPercent(value: number): string {
  return `${Number(value.toFixed(1))}%`;
}

/** `87.5%`; null when coverage could not be measured. */
export function formatCoverage(coverage: Report['coverage']): string | null {
  return coverage.percent === null ? null : formatPercent(coverage.percent);
}

/** A reason's first paragraph: a failed patch's reason goes on with the whole current file, for the model only. */
export function firstParagraph(reason: string): string {
  return reason.split(/\n\s*\n/)[0]!.trim();
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Cuts to at most `max` UTF-16 code units without splitting a surrogate pair, marking the cut with `…`. */
export function truncateChars(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  return `${cleanEnd(text, max - 1)}…`;
}

/** Cuts the middle out of a long text: tracebacks end with the error and diffs start with the hunk. */
export function truncateMiddle(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = `\n… ${text.length - max} characters cut …\n`;
  const keep = Math.max(0, max - marker.length);
  const head = cleanEnd(text, Math.ceil(keep / 2));
  const tailStart = text.length - Math.floor(keep / 2);
  const tail = isLowSurrogate(text.charCodeAt(tailStart)) ? text.slice(tailStart + 1) : text.slice(tailStart);
  return `${head}${marker}${tail}`;
}

/** Cuts to at most `maxBytes` of UTF-8, the unit GitHub's annotation limits are stated in. */
export function truncateBytes(text: string, maxBytes: number): string {
  if (Buffer.byteLength(text) <= maxBytes) return text;
  const marker = '…';
  const budget = maxBytes - Buffer.byteLength(marker);
  let lo = 0;
  let hi = Math.min(text.length, budget);
  while (lo < hi) {
    const mid = Math.ceil((lo + hi) / 2);
    if (Buffer.byteLength(cleanEnd(text, mid)) <= budget) lo = mid;
    else hi = mid - 1;
  }
  return `${cleanEnd(text, lo)}${marker}`;
}

function cleanEnd(text: string, length: number): string {
  const cut = text.slice(0, length);
  return cut.length > 0 && isHighSurrogate(cut.charCodeAt(cut.length - 1)) ? cut.slice(0, -1) : cut;
}

const isHighSurrogate = (code: number): boolean => code >= 0xd800 && code <= 0xdbff;
const isLowSurrogate = (code: number): boolean => code >= 0xdc00 && code <= 0xdfff;

export function normaliseNewlines(text: string): string {
  return text.replace(/\r\n?/g, '\n');
}

/**
 * Text from the sandbox may carry terminal escapes (pytest colours, or worse, sequences that move the
 * cursor or retitle a terminal): colour codes are dropped and other control characters made visible.
 */
export function stripControl(text: string): string {
  return normaliseNewlines(text)
    .replace(/\x1b\[[0-9;?]*[ -\/]*[@-~]/g, '')
    .replace(/[\x00-\x08\x0b-\x1f\x7f-\x9f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

/** Findings about the whole folder name it `.` (or nothing); they have no file to point at. */
export function fileOf(finding: Finding): string | undefined {
  return finding.path === '' || finding.path === '.' ? undefined : finding.path;
}

/** A failed or erroring test case, with the tests stage's finding for it when there is one. */
export interface FailedTest {
  readonly testCase: TestCase;
  /** Carries the traceback in `details`; rendered with the test, not again as a finding. */
  readonly finding?: Finding;
}

/** The traceback: the test case's own, else the one its tests-stage finding carries. */
export function failedTestDetails({ testCase, finding }: FailedTest): string | undefined {
  const details = testCase.details ?? finding?.details;
  return details === undefined || details.trim() === '' ? undefined : details;
}

export interface StageFindings {
  readonly stage: StageName;
  readonly findings: Finding[];
}

/**
 * Splits a report into failed tests and the remaining findings per stage. The tests stage may report a
 * failed test as a finding too (that is where tracebacks live); such a finding is paired with its test
 * case — by node id in its rule or message, or by the same path and line — so it is shown once.
 */
export function splitReport(report: Report): { failedTests: FailedTest[]; stages: StageFindings[] } {
  const testFindings = report.stages.filter((s) => s.name === 'tests').flatMap((s) => s.findings);
  const paired = new Set<Finding>();
  const failedTests = report.tests.cases
    .filter((c) => c.outcome === 'failed' || c.outcome === 'error')
    .map((testCase): FailedTest => {
      const finding = testFindings.find((f) => !paired.has(f) && describesTest(f, testCase));
      if (finding === undefined) return { testCase };
      paired.add(finding);
      return { testCase, finding };
    });
  const stages = report.stages.map((s) => ({ stage: s.name, findings: s.findings.filter((f) => !paired.has(f)) }));
  return { failedTests, stages };
}

function describesTest(finding: Finding, testCase: TestCase): boolean {
  if (mentionsId(finding.rule, testCase.id) || mentionsId(finding.message, testCase.id)) return true;
  return testCase.path !== undefined && testCase.line !== undefined && testCase.line > 0 &&
    finding.path === testCase.path && finding.line === testCase.line;
}

/** `::test_a` must not match inside `::test_ab` or `::test_a[param]`. */
function mentionsId(text: string, id: string): boolean {
  for (let at = text.indexOf(id); at !== -1; at = text.indexOf(id, at + 1)) {
    if (!/^[\w[]/.test(text.slice(at + id.length, at + id.length + 1))) return true;
  }
  return false;
}

/** The file of a test: its own path, else the part of the pytest node id before `::`. */
export function testPath(testCase: TestCase): string | undefined {
  if (testCase.path !== undefined && testCase.path !== '') return testCase.path;
  const file = testCase.id.split('::')[0];
  return file !== undefined && file !== testCase.id && file !== '' ? file : undefined;
}
