import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { CHANNEL_FD, type RunLimits, type RunResult, type Sandbox } from '../../sandbox/types.js';
import { parseJsonOrNull } from '../../json.js';
import { pythonScript } from '../python-scripts.js';
import { stage, type Finding, type StageOutcome, type TestCase, type TestCounts } from '../report.js';
import { SYSTEM_RUNTIME, type TestRuntime } from '../runtime.js';
import { readOutput } from './output.js';
import { readProgress, type Progress } from './progress.js';
import { parseJunit } from './junit.js';
import { plural, readAnalysis, type Analysis } from './syntax.js';

/** pytest's exit statuses (https://docs.pytest.org/en/stable/reference/exit-codes.html). */
const PYTEST_NO_TESTS = 5;
const PYTEST_USAGE_ERROR = 4;
const PYTEST_INTERNAL_ERROR = 3;
const PYTEST_INTERRUPTED = 2;

/** What coverage.py measures: the project as its settings say, nothing, or only the given files. */
export type CoverageSpec = 'project' | 'off' | { readonly include: readonly string[] };

export interface TestRunOptions {
  /** The Python and environment the tests run under (default: the sandbox's own Python). */
  readonly runtime?: TestRuntime;
  /**
   * Record which test ran each line: coverage.json then has coverage.py's per-file `contexts`
   * (`{"LINE": ["tests/test_x.py::test_y", …]}`, contexts named by pytest node id), for mutation testing.
   */
  readonly contexts?: boolean;
  /** Default 'project': coverage.py's settings of the project, over the whole folder. */
  readonly coverage?: CoverageSpec;
  /** Node ids or paths to run instead of the project's own discovery (testpaths, python_files, …). */
  readonly select?: readonly string[];
  /** Only Python's parse of every file, no tests (their environment could not be made). */
  readonly analyseOnly?: boolean;
  /** Limits beyond the wall time, e.g. a repository's own memory limit. */
  readonly limits?: Partial<RunLimits>;
  /** The project's `python_files` globs: those files are tests too (not measured, their functions read). */
  readonly testFiles?: readonly string[];
}

export interface TestRun {
  /** What python/validate.py sent on its channel (Python's parse of every file) before any test ran. */
  readonly analysis: Analysis;
  readonly tests: StageOutcome;
  readonly counts: TestCounts;
  readonly cases: readonly TestCase[];
  /** coverage.py's JSON report, unparsed; null when none was written. */
  readonly coverageJson: string | null;
  /** Settings of the project the run could not use (e.g. an unreadable coverage config). */
  readonly notes: readonly string[];
  /** How the run ended, when it did not end by itself: then the results are the ones seen before. */
  readonly ended: 'completed' | 'timed-out' | 'out-of-memory' | 'killed' | 'crashed' | 'cancelled';
}

const NotesSchema = z.array(z.string());

/**
 * Runs pytest under coverage.py in the sandbox (python/validate.py) and reads the per-test results from
 * its JUnit XML or, when pytest did not get to write it (killed, timed out, crashed), from the progress
 * it wrote as the tests ran. Results are written to a second folder, not the work folder, so files the
 * tests write cannot be mistaken for them.
 */
export async function runTests(
  sandbox: Sandbox,
  workDir: string,
  notes: readonly Finding[],
  timeoutSeconds: number,
  signal?: AbortSignal,
  options: TestRunOptions = {},
): Promise<TestRun> {
  const out = await mkdtemp(join(tmpdir(), 'code4py-out-'));
  const runtime = options.runtime ?? SYSTEM_RUNTIME;
  const settings = { contexts: options.contexts === true, coverage: options.coverage ?? 'project', select: options.select ?? null, analyseOnly: options.analyseOnly === true, testFiles: options.testFiles ?? [] };
  try {
    const result = await sandbox.run({
      command: [runtime.python, '-I', '-B', '-c', pythonScript('validate'), '/out', String(CHANNEL_FD), JSON.stringify(settings)],
      channel: true,
      workDir,
      mounts: [...runtime.mounts, { host: out, sandbox: '/out', writable: true }],
      env: { ...(runtime.pluginAutoload ? {} : { PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' }), PYTHONHASHSEED: '0', COLUMNS: '120', ...runtime.env },
      limits: { ...options.limits, wallTimeMs: timeoutSeconds * 1000, cpuSeconds: timeoutSeconds + 5 },
      ...(signal ? { signal } : {}),
    });
    const analysis = readAnalysis(result.channel, notes, result.timedOut ? 'it timed out' : lastLines(result.stderr, 1) || `exit ${result.exitCode ?? result.signal}`);
    const junitText = await readOutput(join(out, 'junit.xml'), 64 * 1024 * 1024);
    const coverageJson = settings.coverage === 'off' ? null : await readOutput(join(out, 'coverage.json'), 64 * 1024 * 1024);
    const runNotes = NotesSchema.safeParse(parseJsonOrNull((await readOutput(join(out, 'notes.json'), 64 * 1024)) ?? '[]'));
    const progress = readProgress(await readOutput(join(out, 'progress'), 16 * 1024 * 1024));
    const junit = junitText === null ? null : await parseJunit(junitText);
    return judge(result, { analysis, junit, progress, coverageJson, notes: runNotes.success ? runNotes.data : [], timeoutSeconds });
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

interface RunOutputs {
  readonly analysis: Analysis;
  readonly junit: Awaited<ReturnType<typeof parseJunit>> | null;
  readonly progress: Progress;
  readonly coverageJson: string | null;
  readonly notes: readonly string[];
  readonly timeoutSeconds: number;
}

function judge(result: RunResult, outputs: RunOutputs): TestRun {
  const { analysis, junit, progress, coverageJson, notes, timeoutSeconds } = outputs;
  const ended = howItEnded(result);
  // JUnit when pytest wrote it; otherwise what the progress saw finish before the run ended.
  const cases = junit ? junit.cases : progress.finished;
  const counts = countCases(cases, result.timedOut);
  const findings: Finding[] = cases.filter((c) => c.outcome === 'failed' || c.outcome === 'error').map(caseFinding);
  for (const problem of junit?.problems ?? []) findings.push({ path: '.', line: 0, rule: 'junit-entry', message: problem, severity: 'warning' });
  const tail = lastLines(result.stderr || result.stdout, 12);
  const run = (tests: StageOutcome): TestRun => ({ analysis, tests, counts, cases, coverageJson, notes, ended });
  const sofar = cases.length > 0 ? `; ${summarise(counts)} before that` : '; no test had finished';

  if (ended === 'cancelled') return run(stage('tests', 'error', 'the test run was cancelled', findings));
  if (ended !== 'completed') {
    const running = progress.running;
    const what = {
      'timed-out': `timed out after ${timeoutSeconds} s`,
      'out-of-memory': 'ran out of memory (the memory limit was reached)',
      killed: `was killed by ${result.signal ?? 'a signal'}`,
      crashed: `crashed (pytest exited with status ${result.exitCode}${result.exitCode === PYTEST_INTERNAL_ERROR ? ', an internal error' : ''})`,
    }[ended];
    findings.push({
      path: running ? (running.split('::')[0] ?? '.') : '.',
      line: 0,
      rule: ended === 'timed-out' ? 'timeout' : ended === 'out-of-memory' ? 'out-of-memory' : 'pytest-crashed',
      message: `the test run ${what}${running ? ` while running ${running}` : ''}${ended === 'crashed' ? '' : '; it was killed'}`,
      severity: 'error',
      ...(tail ? { details: tail } : {}),
    });
    return run(stage('tests', 'error', `the test run ${what}${sofar}`, findings));
  }
  if (result.exitCode === PYTEST_NO_TESTS || (result.exitCode === 0 && cases.length === 0)) {
    const why = lastLines(result.stdout, 3);
    findings.push({
      path: '.',
      line: 0,
      rule: 'no-tests',
      message: 'no tests were found: add test_*.py files with test_… functions (pytest discovery rules), or check the project\'s testpaths and python_files settings',
      severity: 'error',
      ...(why ? { details: why } : {}),
    });
    return run(stage('tests', 'failed', 'no tests were found (pytest collected nothing)', findings));
  }
  if (result.exitCode === PYTEST_USAGE_ERROR || result.exitCode === PYTEST_INTERRUPTED && cases.length === 0) {
    const said = lastLines(result.stderr || result.stdout, 1);
    findings.push({ path: '.', line: 0, rule: 'pytest-error', message: `pytest could not start: ${said || `exit ${result.exitCode}`}`, severity: 'error', ...(tail ? { details: tail } : {}) });
    return run(stage('tests', 'error', `pytest could not start (exit status ${result.exitCode}): ${said}`, findings));
  }
  if (!junit) {
    findings.push({ path: '.', line: 0, rule: 'pytest-error', message: `pytest exited with status ${result.exitCode} without writing its results`, severity: 'error', ...(tail ? { details: tail } : {}) });
    return run(stage('tests', 'error', `pytest exited with status ${result.exitCode} without writing its results${sofar}`, findings));
  }
  const failed = counts.failed + counts.errors > 0 || result.exitCode !== 0;
  return run(stage('tests', failed ? 'failed' : 'passed', summarise(counts), findings));
}

function howItEnded(result: RunResult): TestRun['ended'] {
  if (result.aborted) return 'cancelled';
  if (result.timedOut) return 'timed-out';
  if (result.outOfMemory) return 'out-of-memory';
  if (result.exitCode === null) return 'killed';
  if (result.exitCode === PYTEST_INTERNAL_ERROR || result.exitCode > 5) return 'crashed';
  return 'completed';
}

function countCases(cases: readonly TestCase[], timedOut: boolean): TestCounts {
  const count = (outcome: TestCase['outcome']): number => cases.filter((c) => c.outcome === outcome).length;
  return { passed: count('passed'), failed: count('failed'), errors: count('error'), skipped: count('skipped'), timedOut };
}

function caseFinding(c: TestCase): Finding {
  return {
    path: c.path ?? c.id.split('::')[0] ?? '.',
    line: c.line ?? 0,
    rule: c.outcome === 'failed' ? 'test-failed' : 'test-error',
    message: `${c.id} ${c.outcome === 'failed' ? 'failed' : 'errored'}${c.message ? `: ${firstLines(c.message, 3)}` : ''}`,
    severity: 'error',
    ...(c.details ? { details: c.details } : {}),
  };
}

export function summarise(counts: TestCounts): string {
  const parts = [`${counts.passed} passed`, `${counts.failed} failed`];
  if (counts.errors) parts.push(`${counts.errors} ${plural(counts.errors, 'error')}`);
  if (counts.skipped) parts.push(`${counts.skipped} skipped`);
  return parts.join(', ');
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

function firstLines(text: string, n: number): string {
  const lines = text.trim().split('\n');
  return lines.slice(0, n).join(' ').slice(0, 500) + (lines.length > n ? ' …' : '');
}
