import { constants } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHANNEL_FD, type Sandbox } from '../../sandbox/types.js';
import { pythonScript } from '../python-scripts.js';
import { SYSTEM_RUNTIME, type TestRuntime } from '../runtime.js';
import { stage, type Finding, type StageOutcome, type TestCase, type TestCounts } from '../report.js';
import { parseJunit } from './junit.js';
import { plural, readAnalysis, type Analysis } from './syntax.js';

/** pytest's exit statuses (https://docs.pytest.org/en/stable/reference/exit-codes.html). */
const PYTEST_NO_TESTS = 5;
const PYTEST_USAGE_ERROR = 4;
const PYTEST_INTERNAL_ERROR = 3;

export interface TestRunOptions {
  /** The Python and environment the tests run under (default: the sandbox's own Python). */
  readonly runtime?: TestRuntime;
  /**
   * Record which test ran each line: coverage.json then has coverage.py's per-file `contexts`
   * (`{"LINE": ["tests/test_x.py::test_y", …]}`, contexts named by pytest node id), for mutation testing.
   */
  readonly contexts?: boolean;
}

export interface TestRun {
  /** What python/validate.py sent on its channel (Python's parse of every file) before any test ran. */
  readonly analysis: Analysis;
  readonly tests: StageOutcome;
  readonly counts: TestCounts;
  readonly cases: readonly TestCase[];
  /** coverage.py's JSON report, unparsed; null when none was written. */
  readonly coverageJson: string | null;
}

/**
 * Runs pytest under coverage.py in the sandbox, with plugin autoload off (only pytest's own plugins), and
 * reads the per-test results from its JUnit XML. The results are written to a second folder, not the
 * work folder, so files the tests write cannot be mistaken for them.
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
  try {
    const result = await sandbox.run({
      command: [runtime.python, '-I', '-c', pythonScript('validate'), '/out', String(CHANNEL_FD), JSON.stringify({ contexts: options.contexts === true })],
      channel: true,
      workDir,
      mounts: [...runtime.mounts, { host: out, sandbox: '/out', writable: true }],
      env: { ...(runtime.pluginAutoload ? {} : { PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' }), PYTHONHASHSEED: '0', COLUMNS: '120', ...runtime.env },
      limits: { wallTimeMs: timeoutSeconds * 1000, cpuSeconds: timeoutSeconds + 5 },
      signal,
    });
    const analysis = readAnalysis(result.channel, notes, result.timedOut ? 'it timed out' : lastLines(result.stderr, 1) || `exit ${result.exitCode ?? result.signal}`);
    const junit = await readOutput(join(out, 'junit.xml'), 32 * 1024 * 1024);
    const coverageJson = await readOutput(join(out, 'coverage.json'), 32 * 1024 * 1024);
    const cases = junit ? await parseJunit(junit) : [];
    const counts: TestCounts = {
      passed: cases.filter((c) => c.outcome === 'passed').length,
      failed: cases.filter((c) => c.outcome === 'failed').length,
      errors: cases.filter((c) => c.outcome === 'error').length,
      skipped: cases.filter((c) => c.outcome === 'skipped').length,
      timedOut: result.timedOut,
    };
    const findings: Finding[] = cases
      .filter((c) => c.outcome === 'failed' || c.outcome === 'error')
      .map((c) => ({
        path: c.path ?? '.',
        line: c.line ?? 0,
        rule: c.outcome === 'failed' ? 'test-failed' : 'test-error',
        message: `${c.id} ${c.outcome === 'failed' ? 'failed' : 'errored'}${c.message ? `: ${firstLines(c.message, 3)}` : ''}`,
        severity: 'error' as const,
        ...(c.details ? { details: c.details } : {}),
      }));
    const tail = lastLines(result.stderr || result.stdout, 12);

    if (result.aborted) return { analysis, tests: stage('tests', 'error', 'the test run was cancelled', findings), counts, cases, coverageJson };
    if (result.timedOut || result.outOfMemory) {
      const running = await lastStarted(out, cases);
      const what = result.timedOut ? `timed out after ${timeoutSeconds} s` : 'ran out of memory';
      findings.push({
        path: running?.path ?? '.',
        line: 0,
        rule: result.timedOut ? 'timeout' : 'out-of-memory',
        message: `the test run ${what}${running ? ` while running ${running.id}` : ''}; it was killed`,
        severity: 'error',
        ...(tail ? { details: tail } : {}),
      });
      return { analysis, tests: stage('tests', 'failed', `${summarise(counts)}; ${what}`, findings), counts, cases, coverageJson };
    }
    if (result.exitCode === PYTEST_NO_TESTS || (result.exitCode === 0 && cases.length === 0)) {
      findings.push({ path: '.', line: 0, rule: 'no-tests', message: 'no tests were found: add test_*.py files with test_… functions (pytest discovery rules)', severity: 'error' });
      return { analysis, tests: stage('tests', 'failed', 'no tests were found', findings), counts, cases, coverageJson };
    }
    if (!junit || result.exitCode === PYTEST_USAGE_ERROR || result.exitCode === PYTEST_INTERNAL_ERROR || result.exitCode === null) {
      const why = result.exitCode === null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
      findings.push({ path: '.', line: 0, rule: 'pytest-error', message: `pytest ${why} before reporting results`, severity: 'error', ...(tail ? { details: tail } : {}) });
      return { analysis, tests: stage('tests', 'error', `pytest ${why}`, findings), counts, cases, coverageJson };
    }
    const failed = counts.failed + counts.errors > 0 || result.exitCode !== 0;
    return { analysis, tests: stage('tests', failed ? 'failed' : 'passed', summarise(counts), findings), counts, cases, coverageJson };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

export function summarise(counts: TestCounts): string {
  const parts = [`${counts.passed} passed`, `${counts.failed} failed`];
  if (counts.errors) parts.push(`${counts.errors} ${plural(counts.errors, 'error')}`);
  if (counts.skipped) parts.push(`${counts.skipped} skipped`);
  return parts.join(', ');
}

/**
 * Reads a file the sandboxed run wrote. The run could have swapped it for a link to a host file, so links
 * are not followed, only regular files are read, and only up to `maxBytes`.
 */
export async function readOutput(path: string, maxBytes: number): Promise<string | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return null;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** The test that was running when the run was killed: the last one started that has no result. */
async function lastStarted(out: string, cases: readonly TestCase[]): Promise<{ id: string; path: string } | null> {
  const progress = await readOutput(join(out, 'progress'), 8 * 1024 * 1024);
  const started = (progress ?? '').split('\n').flatMap((line) => (line.startsWith('start\t') ? [line.slice(6)] : []));
  const finished = new Set(cases.map((c) => c.id));
  const id = [...started].reverse().find((s) => !finished.has(s));
  return id ? { id, path: id.split('::')[0] ?? '.' } : null;
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}

function firstLines(text: string, n: number): string {
  const lines = text.trim().split('\n');
  return lines.slice(0, n).join(' ').slice(0, 500) + (lines.length > n ? ' …' : '');
}
