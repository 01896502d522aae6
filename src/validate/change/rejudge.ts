import { sortFindings, stage, type Finding, type StageResult } from '../report.js';
import { summarise } from '../stages/tests.js';
import type { OutcomeComparison } from './outcomes.js';

/**
 * A matched stage judged on what the change introduced: its status from the introduced findings alone,
 * and a summary that counts them apart from the pre-existing ones.
 */
export function rejudgeFindings(result: StageResult, classified: readonly Finding[]): StageResult {
  const introduced = classified.filter((f) => f.introduced !== false);
  const preexisting = classified.length - introduced.length;
  const findings = [...sortFindings(introduced), ...sortFindings(classified.filter((f) => f.introduced === false))];
  if (result.status === 'error' || result.status === 'skipped') return { ...result, findings };
  const status = introduced.some((f) => f.severity === 'error') ? 'failed' : introduced.some((f) => f.severity === 'warning') ? 'warning' : 'passed';
  // Nothing was there before: the stage's own summary counts the change's findings already.
  if (preexisting === 0) return { ...result, status, findings };
  const counted = introduced.filter((f) => f.severity !== 'info').length;
  const head = counted === 0 ? 'nothing introduced by the change' : `${counted} ${counted === 1 ? 'finding' : 'findings'} introduced by the change`;
  return { ...result, status, summary: `${head}; ${preexisting} pre-existing, not counted`, findings };
}

export interface TestsVerdict {
  readonly comparison: OutcomeComparison;
  /** The tests the change adds or modifies. */
  readonly changed: readonly string[];
  /** Problems of the change's tests themselves: none for changed code, tests that pass at the base too. */
  readonly problems: readonly Finding[];
  /** The base's run did not complete: outcomes it did not reach are unknown. */
  readonly baseIncomplete: string | null;
  /** The ids of the head's tests that failed or errored: the tests stage has a finding for each. */
  readonly failing: readonly string[];
}

/**
 * The tests stage judged on the change: it fails on a regression, a failing test of the change's own, or
 * no test at all for changed code; tests that failed at the base already are listed, not counted.
 */
export function rejudgeTests(result: StageResult, counts: Parameters<typeof summarise>[0], verdict: TestsVerdict): StageResult {
  const { comparison, problems } = verdict;
  const blocking = new Set([...comparison.regressed, ...comparison.newFailing]);
  const regressed = new Set(comparison.regressed);
  // A finding names its test first; ids may hold spaces (parametrized ones), so the known ids are matched.
  const failing = [...verdict.failing].sort((a, b) => b.length - a.length);
  const testOf = (f: Finding): string | undefined =>
    f.rule === 'test-failed' || f.rule === 'test-error' ? failing.find((id) => f.message.startsWith(`${id} failed`) || f.message.startsWith(`${id} errored`)) : undefined;
  // "No tests were found" is judged below, by what the change touches.
  const findings: Finding[] = result.findings.filter((f) => f.rule !== 'no-tests').map((f) => {
    const id = testOf(f);
    if (id === undefined) return { ...f, introduced: true };
    return { ...f, introduced: blocking.has(id), ...(regressed.has(id) ? { message: `regressed (passed on the base commit): ${f.message}` } : {}) };
  });
  findings.push(...problems.map((p) => ({ ...p, introduced: true })));
  if (verdict.baseIncomplete) {
    findings.push({ path: '.', line: 0, rule: 'base-incomplete', message: `the base commit's test run ${verdict.baseIncomplete}: tests it did not reach are judged as new`, severity: 'warning', introduced: false });
  }
  if (result.status === 'error' || result.status === 'skipped') return { ...result, findings };
  const parts = [summarise(counts)];
  if (comparison.regressed.length > 0) parts.push(`${comparison.regressed.length} regressed`);
  if (comparison.newFailing.length > 0) parts.push(`${comparison.newFailing.length} of the change's tests failing`);
  if (comparison.stillFailing.length > 0) parts.push(`${comparison.stillFailing.length} failing on the base commit too, not counted`);
  if (comparison.fixed.length > 0) parts.push(`${comparison.fixed.length} fixed`);
  const failed = blocking.size > 0 || problems.some((p) => p.severity === 'error');
  return { ...stage('tests', failed ? 'failed' : 'passed', parts.join('; '), findings), durationMs: result.durationMs };
}
