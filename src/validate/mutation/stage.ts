import type { Sandbox } from '../../sandbox/types.js';
import { stage, type Finding, type MutationReport, type StageOutcome, type TestCase } from '../report.js';
import type { TestRuntime } from '../runtime.js';
import type { SourceFile } from '../source.js';
import { mutationOutcome, mutationReport } from './assess.js';
import type { MutationConfig } from './config.js';
import { planMutations, type MutationPlan } from './plan.js';
import { runMutants, type MutantRunOptions, type StartedMutants } from './run-mutants.js';

export interface MutationStageInput {
  readonly sandbox: Sandbox;
  /** The work folder the tests ran in (the stage changes none of its files). */
  readonly workDir: string;
  readonly files: readonly SourceFile[];
  /** The tests stage's run, made with per-test coverage contexts (`runTests(…, { contexts: true })`). */
  readonly testRun: { readonly coverageJson: string | null; readonly cases: readonly TestCase[] };
  /** The lines the change adds or modifies, per file; null or absent for every line (no base). */
  readonly changedLines?: ReadonlyMap<string, ReadonlySet<number>> | null;
  readonly config: MutationConfig;
  readonly runtime?: TestRuntime;
  readonly signal?: AbortSignal;
  readonly seed?: number;
  readonly workers?: number;
  /**
   * Only these mutants, by the ids an earlier run of the same code and lines gave them (`survivors`): to ask
   * whether strengthened tests kill what survived. Mutants are numbered in the order they are made, which
   * depends only on the files and the lines, so the ids hold while the code under test is unchanged.
   */
  readonly only?: readonly number[];
  /** A run started while the tests ran (startMutants): it gets the plan, or is cancelled when none is wanted. */
  readonly started?: StartedMutants;
}

export interface MutationStageResult {
  readonly stage: StageOutcome;
  /** null when no mutant could be made or run (the stage says why). */
  readonly mutation: MutationReport | null;
  /** The ids of the mutants that survived, for a later run with `only`. */
  readonly survivors: readonly number[];
}

/**
 * The mutation stage, run after the tests pass: plans the mutants from the test run's coverage contexts,
 * runs them all in one sandbox run within `budget_seconds`, and reports the score and the survivors.
 */
export async function runMutationStage(input: MutationStageInput): Promise<MutationStageResult> {
  const planned = planMutations({ coverageJson: input.testRun.coverageJson, cases: input.testRun.cases, files: input.files, changedLines: input.changedLines ?? null });
  if (!planned.ok) {
    await input.started?.cancel();
    return { stage: stage('mutation', 'error', `not run: ${planned.reason}`), mutation: null, survivors: [] };
  }
  if (planned.plan.files.length === 0) {
    await input.started?.cancel();
    return { stage: stage('mutation', 'skipped', input.changedLines ? 'no mutants: the change touches no non-test Python file' : 'no non-test Python files to mutate'), mutation: null, survivors: [] };
  }

  const execute = (plan: MutationPlan, options: MutantRunOptions) => (input.started ? input.started.submit(plan, options) : runMutants(input.sandbox, input.workDir, plan, options));
  const run = await execute(planned.plan, {
    budgetSeconds: input.config.budget_seconds,
    ...(input.runtime ? { runtime: input.runtime } : {}),
    ...(input.signal ? { signal: input.signal } : {}),
    ...(input.seed !== undefined ? { seed: input.seed } : {}),
    ...(input.workers !== undefined ? { workers: input.workers } : {}),
    ...(input.only ? { only: input.only } : {}),
  });
  const survivors = [...run.records.results].filter(([, r]) => r.status === 'survived').map(([id]) => id).sort((a, b) => a - b);
  const notes: Finding[] = run.records.notes.map((n) => ({ path: n.path, line: 0, rule: 'not-mutated', message: n.message, severity: 'info' }));
  if (run.failure !== null) {
    const partial = run.records.results.size > 0 ? mutationReport(run.records) : null;
    return { stage: stage('mutation', 'error', run.failure, notes), mutation: partial, survivors };
  }
  const baseline = run.records.baseline;
  if (run.records.done?.stopped === 'baseline' && baseline) {
    const why = baseline.status === 'timedOut' ? `took longer than the ${input.config.budget_seconds} s budget` : 'do not all pass';
    const finding: Finding = {
      path: '.',
      line: 0,
      rule: 'mutation-baseline',
      message: `no mutant was run: the ${baseline.tests} tests that run the mutated lines ${why} when run again, unmutated, for mutation testing (tests that depend on their order or on each other?)`,
      severity: 'warning',
      ...(baseline.output ? { details: baseline.output } : {}),
    };
    return { stage: stage('mutation', 'error', `not run: the tests ${why} when run again for mutation testing`, [finding, ...notes]), mutation: null, survivors: [] };
  }
  const report = mutationReport(run.records);
  const outcome = mutationOutcome(report, input.config);
  return { stage: { ...outcome, findings: [...outcome.findings, ...notes] }, mutation: report, survivors };
}
