import type { ValidationConfig } from '../config/schema.js';
import type { ReadySandbox } from '../sandbox/select.js';
import type { InstalledDependencies } from './environment/prepare.js';
import { effectiveLimits, type OperatorLimits } from './limits.js';
import { startMutants, type StartedMutants } from './mutation/run-mutants.js';
import { runMutationStage } from './mutation/stage.js';
import { stage, STAGE_NAMES, type Coverage, type Finding, type MutationReport, type Report, type StageName, type StageOutcome, type StageResult } from './report.js';
import { SYSTEM_RUNTIME, type TestRuntime } from './runtime.js';
import type { SourceFile } from './source.js';
import type { RuffRunner } from './stages/lint.js';
import { assessCoverage } from './stages/coverage.js';
import { runDependencies } from './stages/dependencies.js';
import { runTests, type TestRun, type TestRunOptions } from './stages/tests.js';
import { copyFolder, type Workspace } from './workspace.js';
import { testFileRule } from './test-files.js';

/**
 * Lint and security checks, which run in-process (Ruff's WebAssembly build) beside the sandbox runs; its
 * Ruff also formats and fixes generated files (pipeline/generate/format.ts).
 */
export interface Linter extends RuffRunner {
  check(files: readonly SourceFile[], config: ValidationConfig): Promise<{ lint: StageOutcome; security: StageOutcome }>;
}

/** The runtime the tests run under, once the environment stage has made it (see src/validate/environment). */
export interface PreparedRuntime {
  /** The `environment` stage's result; null when there is no such stage (nothing to install). */
  readonly stage: StageOutcome | null;
  readonly runtime: TestRuntime;
  /** The Python that runs the tests, for the report. */
  readonly python?: { readonly version: string; readonly path: string; readonly note?: string };
  /** What was installed and what could not be, for the dependencies stage; null when nothing was to be installed. */
  readonly installed?: InstalledDependencies | null;
  dispose(): Promise<void>;
}

/** Prepares a workspace's runtime: its declared dependencies and the project itself installed. */
export interface EnvironmentPort {
  /**
   * What, besides the workspace, decides the environments it makes (the package indexes without their
   * credentials, the hosts installs may reach, the interpreters a repository may choose): part of the key
   * under which a base's results are kept. Never holds a secret. Left out (a test's stand-in), every such
   * port counts as the same environment.
   */
  readonly identity?: string;
  prepare(workspace: Workspace, config: ValidationConfig, signal?: AbortSignal, hints?: { readonly solutionRequirements?: readonly string[] }): Promise<PreparedRuntime>;
}

export type ProgressEvent =
  | { readonly kind: 'copied'; readonly files: number }
  | { readonly kind: 'stage'; readonly stage: StageName; readonly status: StageResult['status']; readonly summary: string };

export interface ValidateOptions {
  readonly config: ValidationConfig;
  readonly sandbox: ReadySandbox;
  readonly linter: Linter;
  readonly signal?: AbortSignal;
  readonly onProgress?: (event: ProgressEvent) => void;
  /** The operator's maxima for the limits a repository may ask for. */
  readonly maxima?: OperatorLimits;
  /** The environment stage; without it the tests run under the sandbox's own Python. */
  readonly environment?: EnvironmentPort;
  /** The requirements the model's own solution added: an install failure of theirs goes back to the model. */
  readonly solutionRequirements?: readonly string[];
  /**
   * Whether an environment that could not be made stops the tests (they would only fail to import what it
   * lacks). By default it does; a change-scoped validation runs them anyway when the failure is not the
   * change's (the base is run the same way, so their outcomes compare).
   */
  readonly environmentBlocksTests?: (stage: StageOutcome) => boolean;
  /**
   * Seconds the mutation run, started beside the tests, may wait for its plan beyond the tests' own
   * timeout: a change-scoped validation hands it the plan only once the base and evidence runs settle.
   */
  readonly mutationWaitSeconds?: number;
}

/** Validates a folder on disk: copies it, validates the copy, removes the copy. */
export async function validateFolder(dir: string, options: ValidateOptions): Promise<Report> {
  const started = performance.now();
  const workspace = await copyFolder(dir, options.config);
  try {
    options.onProgress?.({ kind: 'copied', files: workspace.files.length });
    return await validateWorkspace(workspace, options, started);
  } finally {
    await workspace.dispose();
  }
}

/** The stages of one tree of files, and its test run: what a validation, a base line and an evidence run share. */
export interface Checks {
  readonly run: TestRun;
  readonly python?: PreparedRuntime['python'];
  /** The runtime the tests ran under, kept for the mutation stage until `release()`. */
  readonly runtime: TestRuntime;
  /** The mutation run, started beside the tests when they record their contexts; cancelled by `release()` if unused. */
  readonly mutants?: StartedMutants;
  /** Lets go of the runtime (the environment's per-run layer). */
  release(): Promise<void>;
}

/** Records a stage's result with its duration, and tells the caller. */
export type Recorder = (outcome: StageOutcome, since: number) => void;

export function recorder(results: Map<StageName, StageResult>, onProgress: ValidateOptions['onProgress']): Recorder {
  return (outcome, since) => {
    results.set(outcome.name, { ...outcome, durationMs: Math.round(performance.now() - since) });
    onProgress?.({ kind: 'stage', stage: outcome.name, status: outcome.status, summary: outcome.summary });
  };
}

/**
 * Syntax, lint, security, dependencies, environment and tests for one workspace. The sandboxed run
 * (Python's parser, then pytest) and Ruff run side by side; each stage is recorded as soon as it is known.
 * `lint: false` leaves Ruff out (a run that only needs the test outcomes).
 */
export async function runChecks(workspace: Workspace, options: ValidateOptions, tests: Omit<TestRunOptions, 'runtime' | 'limits'>, record: Recorder, lint = true): Promise<Checks> {
  const { config, sandbox, linter, signal } = options;
  const t0 = performance.now();
  const linted = lint
    ? linter.check(workspace.files, config).then(({ lint, security }) => {
        record(lint, t0);
        record(security, t0);
      })
    : Promise.resolve();
  const limits = effectiveLimits(config, options.maxima);
  const notes: Finding[] = [...workspace.notes, ...limits.notes.map((message) => ({ path: '.', line: 0, rule: 'limit-lowered', message, severity: 'info' as const }))];
  const missing = missingTools(sandbox);
  const tested = (async (): Promise<{ run: TestRun; prepared: PreparedRuntime | null; mutants?: StartedMutants }> => {
    if (missing) return { run: recordRun(toolsMissing(missing, notes), null), prepared: null };
    const prepared = options.environment ? await options.environment.prepare(workspace, config, signal, options.solutionRequirements ? { solutionRequirements: options.solutionRequirements } : {}) : null;
    let mutants: StartedMutants | undefined;
    try {
      if (prepared?.stage) record(prepared.stage, t0);
      // Without its environment the tests would only fail to import what it lacks: Python's parser still runs.
      const failed = prepared?.stage?.status === 'failed' || prepared?.stage?.status === 'error';
      const blocked = failed && (options.environmentBlocksTests?.(prepared!.stage!) ?? true);
      const settings: TestRunOptions = blocked ? { analyseOnly: true, coverage: 'off' } : { ...tests, runtime: prepared?.runtime ?? SYSTEM_RUNTIME };
      // The mutation stage's sandboxed Python starts now and warms up while the tests run; it waits for its plan.
      if (!blocked && tests.contexts) {
        mutants = await startMutants(sandbox.sandbox, workspace.root, {
          runtime: prepared?.runtime ?? SYSTEM_RUNTIME,
          waitSeconds: limits.timeoutSeconds + 5 + (options.mutationWaitSeconds ?? 0),
          budgetSeconds: config.mutation.budget_seconds,
          ...(signal ? { signal } : {}),
        });
      }
      const testFiles = testFileRule(workspace.files).patterns;
      const ran = await runTests(sandbox.sandbox, workspace.root, notes, limits.timeoutSeconds, signal, { ...settings, limits: limits.run, testFiles });
      const run = blocked ? { ...ran, tests: stage('tests', 'skipped', `not run: the environment could not be prepared (${prepared!.stage!.summary})`) } : ran;
      return { run: recordRun(run, prepared), prepared, ...(mutants ? { mutants } : {}) };
    } catch (error) {
      await mutants?.cancel();
      await prepared?.dispose();
      throw error;
    }
  })();
  /** Records the stages a test run decides: syntax, dependencies (from its imports) and tests. */
  function recordRun(run: TestRun, prepared: PreparedRuntime | null): TestRun {
    const { analysis } = run;
    record(analysis.syntax, t0);
    const deps = performance.now();
    record(
      analysis.ran
        ? runDependencies({ files: workspace.files, imports: analysis.imports, stdlib: new Set(sandbox.python.stdlib), config, installed: prepared?.installed ?? null })
        : stage('dependencies', 'skipped', 'not checked: the imports could not be read'),
      deps,
    );
    record(run.tests, t0);
    return run;
  }
  // Both settle before anything is let go: a failed lint must not release the runtime the tests still use.
  const [lintDone, testDone] = await Promise.allSettled([linted, tested]);
  if (testDone.status === 'rejected') throw testDone.reason;
  const { run, prepared, mutants } = testDone.value;
  const release = async (): Promise<void> => {
    await mutants?.cancel();
    await prepared?.dispose();
  };
  if (lintDone.status === 'rejected') {
    await release();
    throw lintDone.reason;
  }
  return {
    run,
    ...(prepared?.python ? { python: prepared.python } : {}),
    runtime: prepared?.runtime ?? SYSTEM_RUNTIME,
    ...(mutants ? { mutants } : {}),
    release,
  };
}

/**
 * The validation pipeline for a whole folder (no base to compare with): every stage over every file,
 * coverage of all non-test files.
 */
export async function validateWorkspace(workspace: Workspace, options: ValidateOptions, started = performance.now()): Promise<Report> {
  const results = new Map<StageName, StageResult>();
  const record = recorder(results, options.onProgress);
  const mutate = mutationWanted(options.config);
  const checks = await runChecks(workspace, options, { coverage: 'project', contexts: mutate }, record);
  try {
    const t1 = performance.now();
    const cov = assessCoverage(checks.run.coverageJson, workspace.files, checks.run.cases.length > 0, options.config);
    record(cov.stage, t1);
    const mutation = mutate ? await mutationAfterTests(workspace, checks, results.get('tests'), null, options, record) : null;
    return assembleReport(results, checks, cov.coverage, options, started, mutation ? { mutation } : {});
  } finally {
    await checks.release();
  }
}

/** Whether the mutation stage runs: it has a time budget (and the tests gave their coverage contexts). */
export function mutationWanted(config: ValidationConfig): boolean {
  return config.mutation.budget_seconds > 0;
}

/**
 * The mutation stage, once the tests passed: mutants of the changed lines (all lines without a base),
 * each run against the tests that ran its line, under the runtime the tests had. Skipped otherwise.
 */
export async function mutationAfterTests(
  workspace: Workspace,
  checks: Checks,
  tests: StageResult | undefined,
  changedLines: ReadonlyMap<string, ReadonlySet<number>> | null,
  options: ValidateOptions,
  record: Recorder,
): Promise<MutationReport | null> {
  const t0 = performance.now();
  if (tests?.status !== 'passed') {
    await checks.mutants?.cancel();
    record(stage('mutation', 'skipped', 'not run: the tests did not pass'), t0);
    return null;
  }
  const result = await runMutationStage({
    ...(checks.mutants ? { started: checks.mutants } : {}),
    sandbox: options.sandbox.sandbox,
    workDir: workspace.root,
    files: workspace.files,
    testRun: checks.run,
    changedLines,
    config: options.config.mutation,
    runtime: checks.runtime,
    ...(options.signal ? { signal: options.signal } : {}),
  });
  record(result.stage, t0);
  return result.mutation;
}

/** The report from the recorded stages: `passed` when the tests passed and no stage failed. */
export function assembleReport(
  results: ReadonlyMap<StageName, StageResult>,
  checks: Checks,
  coverage: Coverage,
  options: Pick<ValidateOptions, 'sandbox' | 'config'>,
  started: number,
  extra: Partial<Report> = {},
): Report {
  const { sandbox } = options;
  const lintFails = options.config.lint.fail === true;
  const stages = STAGE_NAMES.map((name) => results.get(name)).filter((s): s is StageResult => s !== undefined);
  // A mutation stage that could not run says why, but only a score below a failing threshold fails; so does
  // a lint stage that could not run (a broken Ruff config of the project), unless lint findings fail.
  const advisory = (s: StageResult): boolean => s.status === 'error' && (s.name === 'mutation' || (s.name === 'lint' && !lintFails));
  const fine = (s: StageResult): boolean => s.status === 'passed' || s.status === 'warning' || s.status === 'skipped' || advisory(s);
  const passed = results.get('tests')?.status === 'passed' && stages.every(fine);
  return {
    passed,
    stages,
    tests: { ...checks.run.counts, cases: [...checks.run.cases] },
    coverage,
    python: checks.python ?? { version: sandbox.python.version, path: sandbox.sandbox.python },
    sandbox: `${sandbox.sandbox.backend} (${sandbox.sandbox.limiter} limits), Python ${sandbox.python.version}, pytest ${sandbox.python.pytest ?? 'missing'}, coverage ${sandbox.python.coverage ?? 'missing'}`,
    durationMs: Math.round(performance.now() - started),
    ...extra,
  };
}

/** pytest and coverage.py must be importable by the sandbox's Python; which are not, if any. */
function missingTools(sandbox: ReadySandbox): string[] | null {
  const missing = [sandbox.python.pytest ? null : 'pytest', sandbox.python.coverage ? null : 'coverage'].filter((t): t is string => t !== null);
  return missing.length > 0 ? missing : null;
}

function toolsMissing(missing: readonly string[], notes: readonly Finding[]): TestRun {
  const packages = missing.map((tool) => `python3-${tool}`).join(' ');
  const message = `${missing.join(' and ')} ${missing.length > 1 ? 'are' : 'is'} not installed for the sandbox's Python: install ${packages} (Debian/Ubuntu: apt-get install ${packages}), or point CODE4PY_PYTHON at a Python that has them`;
  return {
    analysis: { syntax: stage('syntax', 'error', message, [...notes]), imports: [], defs: new Map(), ran: false },
    tests: stage('tests', 'error', message, [{ path: '.', line: 0, rule: 'tools-missing', message, severity: 'error' }]),
    counts: { passed: 0, failed: 0, errors: 0, skipped: 0, timedOut: false },
    cases: [],
    coverageJson: null,
    notes: [],
    ended: 'completed',
  };
}
