import type { ValidationConfig } from '../config/schema.js';
import type { ReadySandbox } from '../sandbox/select.js';
import { stage, STAGE_NAMES, type Finding, type Report, type StageName, type StageOutcome, type StageResult } from './report.js';
import type { SourceFile } from './source.js';
import type { RuffRunner } from './stages/lint.js';
import { assessCoverage } from './stages/coverage.js';
import { runDependencies } from './stages/dependencies.js';
import { runTests, type TestRun } from './stages/tests.js';
import { copyFolder, type Workspace } from './workspace.js';

/**
 * Lint and security checks, which run in-process (Ruff's WebAssembly build) beside the sandbox runs; its
 * Ruff also formats and fixes generated files (pipeline/generate/format.ts).
 */
export interface Linter extends RuffRunner {
  check(files: readonly SourceFile[], config: ValidationConfig): Promise<{ lint: StageOutcome; security: StageOutcome }>;
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

/**
 * The validation pipeline. The sandboxed runs (Python's parser, then pytest under coverage.py) and Ruff
 * run side by side; each stage's result is reported as soon as it is known.
 */
export async function validateWorkspace(workspace: Workspace, options: ValidateOptions, started = performance.now()): Promise<Report> {
  const { config, sandbox, linter, signal } = options;
  const results = new Map<StageName, StageResult>();
  const record = (outcome: StageOutcome, since: number): void => {
    results.set(outcome.name, { ...outcome, durationMs: Math.round(performance.now() - since) });
    options.onProgress?.({ kind: 'stage', stage: outcome.name, status: outcome.status, summary: outcome.summary });
  };

  const t0 = performance.now();
  const lint = linter.check(workspace.files, config).then(({ lint, security }) => {
    record(lint, t0);
    record(security, t0);
  });
  const missing = missingTools(sandbox);
  const tests = (missing ? Promise.resolve(toolsMissing(missing, workspace.notes)) : runTests(sandbox.sandbox, workspace.root, workspace.notes, config.tests.timeout_seconds, signal)).then((run) => {
    // One sandbox run parses every file (before any of it runs), then runs the tests.
    const { analysis } = run;
    record(analysis.syntax, t0);
    const deps = performance.now();
    record(
      analysis.ran
        ? runDependencies({ files: workspace.files, imports: analysis.imports, stdlib: new Set(sandbox.python.stdlib), config })
        : stage('dependencies', 'skipped', 'not checked: the imports could not be read'),
      deps,
    );
    record(run.tests, t0);
    const ran = run.cases.length > 0;
    const cov = assessCoverage(run.coverageJson, workspace.files, ran, config);
    record(cov.stage, t0);
    return { run, coverage: cov.coverage };
  });
  const [, testRun] = await Promise.all([lint, tests]);

  const stages = STAGE_NAMES.map((name) => results.get(name)).filter((s): s is StageResult => s !== undefined);
  const passed =
    results.get('tests')?.status === 'passed' && stages.every((s) => s.status === 'passed' || s.status === 'warning' || s.status === 'skipped');
  return {
    passed,
    stages,
    tests: { ...testRun.run.counts, cases: [...testRun.run.cases] },
    coverage: testRun.coverage,
    sandbox: `${sandbox.sandbox.backend} (${sandbox.sandbox.limiter} limits), Python ${sandbox.python.version}, pytest ${sandbox.python.pytest ?? 'missing'}, coverage ${sandbox.python.coverage ?? 'missing'}`,
    durationMs: Math.round(performance.now() - started),
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
    analysis: { syntax: stage('syntax', 'error', message, [...notes]), imports: [], ran: false },
    tests: stage('tests', 'error', message, [{ path: '.', line: 0, rule: 'tools-missing', message, severity: 'error' }]),
    counts: { passed: 0, failed: 0, errors: 0, skipped: 0, timedOut: false },
    cases: [],
    coverageJson: null,
  };
}
