import { failsBeforePassesAfter, SEVERITIES, type Finding, type Report, type Severity, type StageName } from '../validate/report.js';
import { formatCoverage, formatPercent, formatTestCounts, plural } from './common.js';

/**
 * The few figures a maintainer reads first — tests, coverage, findings, and for a change-scoped
 * validation what the change itself did — as short phrases, shared by the check run's title and summary
 * and the pull request body so that all three say the same thing.
 */

// Failed tests have their own figure, coverage and mutation theirs; every other stage's findings are counted.
const NOT_COUNTED: ReadonlySet<StageName> = new Set(['tests', 'coverage', 'mutation']);
const LISTED_TESTS = 5;

/** `coverage 100%`; null when coverage could not be measured. */
export function coverageFigure(report: Report): string | null {
  const percent = formatCoverage(report.coverage);
  return percent === null ? null : `coverage ${percent}`;
}

export interface FindingCounts {
  /** Per stage and severity, worst severity first, in the report's stage order; only non-zero counts. */
  readonly counted: ReadonlyArray<{ readonly stage: StageName; readonly severity: Severity; readonly count: number }>;
  /** Findings that were there at the base already (change-scoped validation only); not in `counted`. */
  readonly preExisting: number;
}

/**
 * The findings a headline counts. With a base, only the ones the change introduced: a finding that was
 * already there is not this pull request's doing (one with no `introduced` flag counts, to be safe).
 */
export function countFindings(report: Report): FindingCounts {
  const scoped = report.base !== undefined;
  let preExisting = 0;
  const counted: Array<{ stage: StageName; severity: Severity; count: number }> = [];
  for (const severity of SEVERITIES) {
    for (const stage of report.stages) {
      if (NOT_COUNTED.has(stage.name)) continue;
      const mine = stage.findings.filter((f) => f.severity === severity && !(scoped && isPreExisting(f)));
      if (mine.length > 0) counted.push({ stage: stage.name, severity, count: mine.length });
    }
  }
  if (scoped) for (const stage of report.stages) if (!NOT_COUNTED.has(stage.name)) preExisting += stage.findings.filter(isPreExisting).length;
  return { counted, preExisting };
}

export function isPreExisting(finding: Finding): boolean {
  return finding.introduced === false;
}

/** `1 security error, 2 lint warnings` (notes only with `withInfo`); null when there is nothing to count. */
export function findingsFigure(counts: FindingCounts, options: { withInfo?: boolean } = {}): string | null {
  const parts = counts.counted
    .filter((c) => c.severity !== 'info')
    .map((c) => `${c.count} ${c.stage} ${c.count === 1 ? c.severity : `${c.severity}s`}`);
  const notes = counts.counted.filter((c) => c.severity === 'info').reduce((n, c) => n + c.count, 0);
  if (options.withInfo && notes > 0) parts.push(plural(notes, 'note'));
  return parts.length === 0 ? null : parts.join(', ');
}

/** `5 tests passed · coverage 100% · 2 lint warnings`: the check run's title. */
export function checkRunTitle(report: Report): string {
  const changed = report.coverage.changedLines;
  const coverage = (changed && patchCoveragePercent(changed)) ?? coverageFigure(report);
  return [formatTestCounts(report.tests, 'headline'), coverage, findingsFigure(countFindings(report))].filter((p) => p !== null).join(' · ');
}

/**
 * One short line per change-scoped figure the report has (none without a base): the evidence that the
 * new tests test the change, patch coverage, mutation score, and the tests that regressed, fail, still
 * fail or were fixed. Plain text; the caller escapes or formats it.
 */
export function changeFigures(report: Report, code: (text: string) => string = (t) => t): string[] {
  const lines: string[] = [];
  const { evidence, mutation } = report;
  if (evidence && evidence.length > 0) {
    // A test skipped with the change shows nothing either way: it is named apart, not counted.
    const ran = evidence.filter((e) => e.head !== 'skipped');
    const skipped = evidence.length - ran.length;
    const noun = (n: number) => (n === 1 ? 'new or changed test' : 'new or changed tests');
    if (ran.length === 0) {
      lines.push(`the ${skipped === 1 ? noun(1) : `${skipped} ${noun(skipped)}`} ${skipped === 1 ? 'was' : 'were'} skipped with this change`);
    } else {
      const shown = ran.filter(failsBeforePassesAfter).length;
      const [fails, passes] = shown === 1 ? ['fails', 'passes'] : ['fail', 'pass'];
      lines.push(`${shown} of ${ran.length} ${noun(ran.length)} ${fails} on the base branch and ${passes} with this change${skipped > 0 ? ` (${skipped} more skipped)` : ''}`);
    }
  }
  const changed = report.coverage.changedLines;
  if (changed) {
    lines.push(changed.total === 0 || changed.percent === null
      ? 'patch coverage: no executable line changed'
      : `${patchCoveragePercent(changed)} (${changed.covered} of ${plural(changed.total, 'changed line')})`);
  }
  if (mutation) {
    const ran = mutation.killed + mutation.timedOut + mutation.survived;
    const sample = mutation.sampled > 0 && mutation.sampled < mutation.total ? `, a sample of ${mutation.sampled} of ${mutation.total}` : '';
    lines.push(mutation.score === null
      ? 'mutation: no mutant ran'
      : `mutation score ${formatPercent(mutation.score)} (${mutation.killed + mutation.timedOut} of ${plural(ran, 'mutant')} killed${sample})`);
  }
  const tests = report.tests;
  const list = (label: string, ids: readonly string[] | undefined) => {
    if (!ids || ids.length === 0) return;
    const more = ids.length > LISTED_TESTS ? ` and ${ids.length - LISTED_TESTS} more` : '';
    lines.push(`${label}: ${ids.slice(0, LISTED_TESTS).map(code).join(', ')}${more}`);
  };
  list('regressed', tests.regressed);
  list('new tests failing', tests.newFailing);
  list('still failing (as on the base branch)', tests.stillFailing);
  list('fixed', tests.fixed);
  return lines;
}

function patchCoveragePercent(changed: NonNullable<Report['coverage']['changedLines']>): string | null {
  return changed.percent === null ? null : `patch coverage ${formatPercent(changed.percent)}`;
}

