import { assembleReport, mutationAfterTests, mutationWanted, recorder, runChecks, type Checks, type ValidateOptions } from '../pipeline.js';
import { failsBeforePassesAfter, stage, STAGE_NAMES, type Evidence, type Finding, type MutationReport, type Report, type StageName, type StageOutcome, type StageResult, type TestCase } from '../report.js';
import { effectiveLimits } from '../limits.js';
import { SharedWork } from '../shared-work.js';
import { isTestFile } from '../source.js';
import type { TestFileRule } from '../test-files.js';
import { writeWorkspace, type InputFile, type Workspace } from '../workspace.js';
import { baseId, baselineKey, baselineOf, MemoryBaselineCache, parseBaseline, type Baseline, type BaselineCache, type BaseTree } from './baseline.js';
import { changedLinesOf, changeSet, isChangedLine, touchedCode, touchedTests, type ChangeSet } from './change-set.js';
import { classifyFindings, LineIndex, MATCHED_STAGES } from './fingerprint.js';
import { changedTests, compareOutcomes, evidenceOf, fileOf, type Outcome } from './outcomes.js';
import { assessPatchCoverage } from './patch-coverage.js';
import { rejudgeFindings, rejudgeTests } from './rejudge.js';

export interface ChangeRequest {
  /** The commit (or tree) the change builds on. */
  readonly base: BaseTree;
  /** Every file with the change applied. */
  readonly head: readonly InputFile[];
  /** Files left out of the head (links, too large), as notes for the report. */
  readonly notes?: readonly Finding[];
}

export interface ChangeOptions extends ValidateOptions {
  /** Where base results are kept between validations; by default, for this process only. */
  readonly baselines?: BaselineCache;
}

const processCache = new MemoryBaselineCache();
const inFlight = new SharedWork<Baseline>();

/**
 * Change-scoped validation: the head judged as a change on top of the base. Findings are the change's
 * when the base does not have them; tests are compared one by one with their outcome at the base (run
 * once per base and settings, then cached); coverage is the share of changed lines the tests run; and
 * the tests the change adds or modifies also run against the base code, for fail-before/pass-after
 * evidence. `passed` depends only on what the change introduces.
 */
export async function validateChange(request: ChangeRequest, options: ChangeOptions): Promise<Report> {
  const started = performance.now();
  const change = changeSet(request.base.files, request.head);
  const code = touchedCode(change);
  const tests = touchedTests(change);
  const head = await writeWorkspace(request.head);
  const headWorkspace: Workspace = { ...head, notes: [...(request.notes ?? []), ...head.notes] };
  try {
    const results = new Map<StageName, StageResult>();
    // The base and the evidence run their tests whatever their environment; the head stops only when the
    // change made the environment fail (a requirement it wrote).
    const quiet = { ...options, onProgress: undefined, environmentBlocksTests: () => false };
    const headOptions = {
      ...quiet,
      environmentBlocksTests: (stage: StageOutcome) => stage.findings.some((f) => f.severity === 'error' && isChangedLine(change, f.path, f.line)),
      mutationWaitSeconds: settleSeconds(options),
    };
    const [base, ran, evidence] = await Promise.allSettled([
      baselineFor(request.base, quiet),
      runChecks(headWorkspace, headOptions, { coverage: code.length > 0 ? { include: code } : 'off', contexts: code.length > 0 && mutationWanted(options.config) }, recorder(results, undefined)),
      // Fail-before/pass-after evidence means something only for changed code.
      tests.length > 0 && code.length > 0 ? evidenceRun(request.base, request.head, tests, change.tests, quiet) : Promise.resolve(null),
    ]);
    if (ran.status === 'rejected') throw ran.reason;
    const checks = ran.value;
    try {
      if (base.status === 'rejected') throw base.reason;
      if (evidence.status === 'rejected') throw evidence.reason;
      const [baseline, atBase] = [base.value, evidence.value];
      options.signal?.throwIfAborted();
      return await judge(request, options, { change, code, tests, headWorkspace, results, baseline, checks, atBase, started });
    } finally {
      await checks.release();
    }
  } finally {
    await head.dispose();
  }
}

/**
 * How long the head's mutation run (started beside its tests) may wait, beyond the tests, for its plan: the
 * plan comes once the base and evidence runs beside it settle, each of which may install its environment
 * (the project, then its dependencies) and run its tests. Waiting costs the sandbox nothing.
 */
function settleSeconds(options: ChangeOptions): number {
  return 2 * options.config.environment.timeout_seconds + effectiveLimits(options.config, options.maxima).timeoutSeconds + 60;
}

interface Judging {
  readonly change: ChangeSet;
  readonly code: readonly string[];
  readonly tests: readonly string[];
  readonly headWorkspace: Workspace;
  readonly results: Map<StageName, StageResult>;
  readonly baseline: Baseline;
  readonly checks: Checks;
  readonly atBase: readonly TestCase[] | null;
  readonly started: number;
}

/** The head's results judged against the base, then the stages that follow the tests: coverage and mutation. */
async function judge(request: ChangeRequest, options: ChangeOptions, j: Judging): Promise<Report> {
  const { change, code, tests, headWorkspace, results, baseline, checks, atBase, started } = j;
  const lines = new LineIndex(new Map(headWorkspace.files.map((f) => [f.path, f.text])));
  for (const name of MATCHED_STAGES) {
    const result = results.get(name);
    if (result) results.set(name, rejudgeFindings(result, classifyFindings(name, result.findings, baseline.findings, lines, change)));
  }
  // A requirement that cannot be installed is the change's when the change wrote its line; one that could
  // not be installed at the base either is reported, and the tests ran without it, at the base too.
  const environment = results.get('environment');
  if (environment) {
    const findings = environment.findings.map((f) => ({ ...f, introduced: isChangedLine(change, f.path, f.line) }));
    const blocking = findings.some((f) => f.introduced && f.severity === 'error');
    const status = environment.status === 'failed' && !blocking ? 'warning' : environment.status;
    const summary = status !== environment.status ? `${environment.summary} (at the base too: the tests ran without it)` : environment.summary;
    results.set('environment', { ...environment, status, summary, findings });
  }
  const judged = judgeTests(baseline, checks, atBase, change, code, tests);
  const testsResult = results.get('tests');
  if (testsResult) results.set('tests', rejudgeTests(testsResult, checks.run.counts, judged));
  const t1 = performance.now();
  const cov = assessPatchCoverage(checks.run.coverageJson, change, checks.run.cases.length > 0, options.config);
  results.set('coverage', { ...cov.stage, durationMs: Math.round(performance.now() - t1) });
  const record = recorder(results, undefined);
  let mutation: MutationReport | null = null;
  if (mutationWanted(options.config) && code.length === 0) record(stage('mutation', 'skipped', 'the change touches no non-test Python file'), performance.now());
  else if (mutationWanted(options.config)) mutation = await mutationAfterTests(headWorkspace, checks, results.get('tests'), changedCodeLines(change, code, headWorkspace), options, record);
  for (const name of STAGE_NAMES) {
    const result = results.get(name);
    if (result) options.onProgress?.({ kind: 'stage', stage: name, status: result.status, summary: result.summary });
  }

  const report = assembleReport(results, checks, cov.coverage, options, started, {
    base: baseId(request.base),
    evidence: judged.evidence,
    ...(mutation ? { mutation } : {}),
  });
  const { comparison } = judged;
  return {
    ...report,
    tests: { ...report.tests, regressed: comparison.regressed, newFailing: comparison.newFailing, stillFailing: comparison.stillFailing, fixed: comparison.fixed },
  };
}

/** The lines the change adds or modifies in its non-test Python files, every line of a file it adds. */
function changedCodeLines(change: ChangeSet, code: readonly string[], workspace: Workspace): Map<string, ReadonlySet<number>> {
  const texts = new Map(workspace.files.map((f) => [f.path, f.text]));
  const lines = new Map<string, ReadonlySet<number>>();
  for (const path of code) {
    const changed = changedLinesOf(change, path);
    if (changed === null) continue;
    const count = (texts.get(path) ?? '').split('\n').length;
    lines.set(path, changed === 'all' ? new Set(Array.from({ length: count }, (_, i) => i + 1)) : changed);
  }
  return lines;
}

function judgeTests(baseline: Baseline, checks: Checks, atBase: readonly Checks['run']['cases'][number][] | null, change: ChangeSet, code: readonly string[], testFiles: readonly string[]) {
  const base = new Map<string, Outcome>(Object.entries(baseline.tests));
  const cases = checks.run.cases;
  const changed = changedTests(cases, base, change, checks.run.analysis.defs);
  const comparison = compareOutcomes(base, cases, new Set(changed));
  const evidence: Evidence[] = atBase ? evidenceOf(changed, atBase, cases) : [];
  const problems: Finding[] = [];
  if (code.length > 0 && changed.length === 0 && checks.run.ended === 'completed') {
    const added = testFiles.filter((f) => !f.endsWith('conftest.py'));
    problems.push({
      path: code[0] ?? '.',
      line: 0,
      rule: 'no-tests-for-change',
      message:
        added.length > 0
          ? `the change modifies ${code.join(', ')} and adds or modifies ${added.join(', ')}, but pytest ran none of their tests: check that the project's testpaths and python_files settings collect them`
          : `the change modifies ${code.join(', ')} but adds or modifies no test: add tests that exercise it`,
      severity: 'error',
    });
  }
  const modifiesExisting = code.some((path) => change.modified.has(path));
  if (modifiesExisting && evidence.length > 0 && !evidence.some(failsBeforePassesAfter) && atBase !== null) {
    problems.push({
      path: fileOf(evidence[0]!.test),
      line: 0,
      rule: 'tests-pass-at-base',
      message: `${noEvidence(evidence)} what the change does to ${code.filter((p) => change.modified.has(p)).join(', ')}`,
      severity: 'warning',
    });
  }
  const baseIncomplete = baseline.ended === 'completed' ? null : { 'timed-out': 'timed out', 'out-of-memory': 'ran out of memory', killed: 'was killed', crashed: 'crashed', cancelled: 'was cancelled', completed: '' }[baseline.ended];
  const failing = cases.filter((c) => c.outcome === 'failed' || c.outcome === 'error').map((c) => c.id);
  return { comparison, changed, problems, baseIncomplete, evidence, failing };
}

/** Why the change's tests show nothing of it, up to the verb: they pass on the base commit too, or were skipped. */
function noEvidence(evidence: readonly Evidence[]): string {
  const ran = evidence.filter((e) => e.head !== 'skipped').length;
  const skipped = evidence.length - ran;
  if (ran === 0) return skipped === 1 ? 'the test the change adds or modifies was skipped: it does not exercise' : `the ${skipped} tests the change adds or modifies were all skipped: they do not exercise`;
  const more = skipped > 0 ? ` (${skipped} more skipped)` : '';
  return ran === 1
    ? `the test the change adds or modifies passes on the base commit too${more}: it does not exercise`
    : `none of the ${ran} tests the change adds or modifies fails on the base commit${more}: they do not exercise`;
}

/**
 * The base's results: from the cache, or computed once (also when several validations ask at once) and
 * kept. A validation that waited for another's computation, which that one's cancel cut short, computes
 * them again under its own signal; a cancelled computation is never kept.
 */
async function baselineFor(base: BaseTree, options: ChangeOptions): Promise<Baseline> {
  const cache = options.baselines ?? processCache;
  const runtime = { backend: options.sandbox.sandbox.backend, python: options.sandbox.python.version, environment: options.environment?.identity ?? null };
  const key = baselineKey(base, { config: options.config, maxima: options.maxima ?? null }, runtime);
  const shared = await inFlight.run(key, options.signal, async () => {
    const cached = parseBaseline(await cache.get(key));
    if (cached) return cached;
    const started = performance.now();
    const workspace = await writeWorkspace(base.files);
    try {
      const results = new Map<StageName, StageResult>();
      const checks = await runChecks(workspace, options, { coverage: 'off' }, recorder(results, undefined));
      await checks.release();
      const outcomes = Object.fromEntries(checks.run.cases.map((c) => [c.id, c.outcome]));
      const lines = new LineIndex(new Map(workspace.files.map((f) => [f.path, f.text])));
      const baseline = baselineOf(results, outcomes, checks.run.ended, lines, Math.round(performance.now() - started));
      if (checks.run.ended !== 'cancelled' && options.signal?.aborted !== true) await cache.set(key, JSON.stringify(baseline));
      return baseline;
    } finally {
      await workspace.dispose();
    }
  });
  return shared.value;
}

/**
 * The tests the change adds or modifies, run against the base code: the base's files with the change's
 * version of its test files (and conftest.py), running only those test files.
 */
async function evidenceRun(base: BaseTree, head: readonly InputFile[], tests: readonly string[], rule: TestFileRule, options: ChangeOptions) {
  const changedFiles = new Set(tests);
  const files = new Map(base.files.map((f) => [f.path, f]));
  for (const file of head) if (changedFiles.has(file.path)) files.set(file.path, file);
  const select = tests.filter((path) => isTestFile(path, rule) && path.endsWith('.py') && !/(^|\/)(conftest|__init__)\.py$/.test(path));
  if (select.length === 0) return null;
  const workspace = await writeWorkspace([...files.values()]);
  try {
    const checks = await runChecks(workspace, options, { coverage: 'off', select }, () => undefined, false);
    await checks.release();
    return checks.run.cases;
  } finally {
    await workspace.dispose();
  }
}
