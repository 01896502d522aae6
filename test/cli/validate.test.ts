import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/validate/report.js';
import { ensureBuilt, runBin, type BinRun } from '../helpers/cli-bin.js';
import { processesWith } from '../helpers/host.js';
import { GOOD_PROJECT, makeProject, useTempDirs } from '../helpers/project.js';

beforeAll(() => {
  ensureBuilt();
});

const { tempDir, onCleanup } = useTempDirs();

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const p = await makeProject(files);
  onCleanup(p.cleanup);
  return p.dir;
}

/** Runs `code4py ARGS` with a private TMPDIR, so anything it leaves behind is seen. */
async function code4py(args: string[], options: { env?: Record<string, string>; interruptAfterMs?: number } = {}): Promise<BinRun & { leftBehind: string[] }> {
  const tmp = await tempDir('code4py-cli-tmp-');
  const run = await runBin(args, { ...process.env, TMPDIR: tmp, ...options.env }, options.interruptAfterMs);
  return { ...run, leftBehind: await readdir(tmp) };
}

describe('code4py validate', () => {
  it('exits 0 on a passing project, with the summary on stdout and progress on stderr', async () => {
    const run = await code4py(['validate', await project(GOOD_PROJECT)]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/✔ tests\s+passed\s+2 passed, 0 failed/);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^PASSED: 2 passed, 0 failed in /);
    expect(run.stderr).toContain('code4py: tests: ok (2 passed, 0 failed)');
    expect(run.leftBehind).toEqual([]);
  });

  it('prints only the JSON report on stdout with --json', async () => {
    const run = await code4py(['validate', '--json', await project(GOOD_PROJECT)]);
    expect(run.code).toBe(0);
    const report = ReportSchema.parse(JSON.parse(run.stdout));
    expect(report.passed).toBe(true);
    expect(report.stages.map((s) => s.name)).toEqual(['syntax', 'lint', 'security', 'dependencies', 'environment', 'tests', 'coverage', 'mutation']);
    expect(report.tests).toMatchObject({ passed: 2, failed: 0, errors: 0, skipped: 0, timedOut: false });
    expect(report.coverage.percent).toBe(100);
  });

  it('exits 1 when a test fails, naming the test and its assertion', async () => {
    const run = await code4py(['validate', await project({ ...GOOD_PROJECT, 'calc.py': 'def add(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a - b\n' })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('test_calc.py::test_add');
    expect(run.stdout).toContain('assert 2 == 3');
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^FAILED: 1 passed, 1 failed/);
  });

  it('exits 1 on a syntax error, at its line and column', async () => {
    const run = await code4py(['validate', await project({ ...GOOD_PROJECT, 'broken.py': 'def f(:\n    pass\n' })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('broken.py:1:7: error syntax-error SyntaxError: invalid syntax');
  });

  it('exits 1 when there are no tests at all, saying how to add them', async () => {
    const run = await code4py(['validate', await project({ 'calc.py': 'X = 1\n' })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('no tests were found: add test_*.py files');
  });

  it('exits 1 on a high-severity security finding, and 0 when security.fail_on is raised past it', async () => {
    const dir = await project({ ...GOOD_PROJECT, 'run.py': 'import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n' });
    const strict = await code4py(['validate', dir]);
    expect(strict.code).toBe(1);
    expect(strict.stdout).toMatch(/run\.py:5:\d+: error S301/);
    const config = join(dir, 'code4py.yml');
    await writeFile(config, 'security:\n  fail_on: high\ntests:\n  coverage_min: 0\n');
    const lenient = await code4py(['validate', '--config', config, dir]);
    expect(lenient.code).toBe(0);
    expect(lenient.stdout).toMatch(/run\.py:5:\d+: warning S301/);
  });

  it("reads DIR's .github/code4py.yml as the bot does, unless --config names another file", async () => {
    const pickled = 'import pickle\n\n\ndef load(blob):\n    return pickle.loads(blob)\n';
    const dir = await project({ ...GOOD_PROJECT, 'run.py': pickled, '.github/code4py.yml': 'security:\n  fail_on: high\ntests:\n  coverage_min: 0\n' });
    const own = await code4py(['validate', dir]);
    expect(own.code).toBe(0);
    expect(own.stdout).toMatch(/run\.py:5:\d+: warning S301/);
    expect(own.stderr).toContain(`code4py: settings from ${join(dir, '.github', 'code4py.yml')}`);
    await writeFile(join(dir, 'strict.yml'), 'security:\n  fail_on: medium\n');
    const other = await code4py(['validate', '--config', join(dir, 'strict.yml'), dir]);
    expect(other.code).toBe(1);
    expect(other.stdout).toMatch(/run\.py:5:\d+: error S301/);
  });

  it("exits 2 when DIR's .github/code4py.yml has a key the bot would refuse, naming it", async () => {
    const dir = await project({ ...GOOD_PROJECT, '.github/code4py.yml': 'max_attempt: 3\n' });
    const run = await code4py(['validate', dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/code4py\.yml has settings Code4Py cannot use:\n\s+- \(top level\): Unrecognized key: "max_attempt"/);
  });

  it('validates non-UTF-8 and binary files without crashing: binary data is carried, a non-UTF-8 module fails', async () => {
    const dir = await project({ ...GOOD_PROJECT, 'logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0xff, 0xfe]), 'latin.py': Buffer.from('x = "\xe9t\xe9"\n', 'latin1') });
    const run = await code4py(['validate', dir]);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/latin\.py:1:\d+: error syntax-error SyntaxError: .*utf-8/i);
    expect(run.stdout).not.toContain('logo.png');
  });

  it('reports a 10 MB file as too large to validate, and leaves nothing behind', async () => {
    const run = await code4py(['validate', await project({ ...GOOD_PROJECT, 'huge.py': `DATA = "${'x'.repeat(10 * 1024 * 1024)}"\n` })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('huge.py is larger than 4 MiB, so it was not copied into the sandbox and cannot be validated');
    expect(run.leftBehind).toEqual([]);
  });

  it('validates 1,000 files', async () => {
    const files: Record<string, string> = { ...GOOD_PROJECT };
    for (let i = 0; i < 1000; i++) files[`pkg/mod_${i}.py`] = `def f_${i}(x: int) -> int:\n    return x + ${i}\n`;
    files['pkg/__init__.py'] = '';
    files['test_pkg.py'] = 'from pkg.mod_999 import f_999\n\n\ndef test_f():\n    assert f_999(1) == 1000\n';
    const run = await code4py(['validate', '--json', await project(files)]);
    const report = ReportSchema.parse(JSON.parse(run.stdout));
    expect(report.stages.find((s) => s.name === 'syntax')?.summary).toMatch(/^1004 Python files parse/);
    expect(report.tests).toMatchObject({ passed: 3, failed: 0 });
    expect(run.leftBehind).toEqual([]);
  });

  it('exits 2 with a clear message for a missing folder', async () => {
    const run = await code4py(['validate', '/nonexistent/code4py-project']);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('code4py: /nonexistent/code4py-project does not exist. Give the folder that holds the Python code and its tests.');
  });

  it('exits 2 on bad arguments, saying what was wrong', async () => {
    const missing = await code4py(['validate']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing required argument 'dir'");
    const timeout = await code4py(['validate', '--timeout', 'soon', '.']);
    expect(timeout.code).toBe(2);
    expect(timeout.stderr).toContain('give a number of seconds between 0 and 3600');
    const unknown = await code4py(['frobnicate']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("unknown command 'frobnicate'");
  });

  it('exits 2 on an invalid config file, naming the key', async () => {
    const dir = await project(GOOD_PROJECT);
    await writeFile(join(dir, 'bad.yml'), 'tests:\n  timeout_seconds: forever\n');
    const run = await code4py(['validate', '--config', join(dir, 'bad.yml'), dir]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.yml has invalid settings:\n\s+- tests\.timeout_seconds: Invalid input: expected number, received string/);
  });

  it('refuses to run code when no sandbox can be had, and says what to do', async () => {
    const docker = await code4py(['validate', await project(GOOD_PROJECT)], { env: { CODE4PY_SANDBOX: 'docker', DOCKER_HOST: 'unix:///nonexistent/code4py-docker.sock' } });
    expect(docker.code).toBe(2);
    expect(docker.stderr).toContain('No sandbox backend works here: the Docker engine does not answer `docker version`');
    expect(docker.stderr).toContain('docker build -t code4py-sandbox sandbox/');
    const python = await code4py(['validate', await project(GOOD_PROJECT)], { env: { CODE4PY_PYTHON: '/usr/bin/no-such-python' } });
    expect(python.code).toBe(2);
    expect(python.stderr).toContain('There is no Python at /usr/bin/no-such-python');
    const bogus = await code4py(['validate', '.'], { env: { CODE4PY_SANDBOX: 'none' } });
    expect(bogus.code).toBe(2);
    expect(bogus.stderr).toContain('CODE4PY_SANDBOX');
  });

  it('refuses to run code when bubblewrap is there but cannot make its sandbox', async () => {
    const bin = await tempDir('code4py-fake-bwrap-');
    const marker = join(bin, 'python-ran');
    // A bwrap that fails as it does where user namespaces are not allowed; it must not fall back to running Python itself.
    await writeFile(join(bin, 'bwrap'), `#!/bin/sh\necho "bwrap: No permissions to creating new namespace" >&2\nexit 1\n`, { mode: 0o755 });
    const run = await code4py(['validate', await project({ ...GOOD_PROJECT, 'conftest.py': `open(${JSON.stringify(marker)}, "w").write("ran")\n` })], {
      // An engine that does not answer, so auto cannot fall back to a working podman instead.
      env: { PATH: `${bin}:${process.env.PATH ?? ''}`, DOCKER_HOST: 'unix:///nonexistent/code4py-docker.sock' },
    });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('No sandbox backend works here: bubblewrap could not run /usr/bin/python3 (bwrap: No permissions to creating new namespace)');
    expect(run.stderr).toContain('apt-get install bubblewrap');
    expect(existsSync(marker)).toBe(false);
  });

  it('stops at --timeout, naming the test that hung', async () => {
    const run = await code4py(['validate', '--timeout', '2', await project({ 'test_hang.py': 'import time\n\n\ndef test_hang():\n    time.sleep(60)\n' })]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('timed out after 2 s while running test_hang.py::test_hang');
  });

  it('on Ctrl-C stops the sandbox, leaves nothing behind and exits 2', async () => {
    const marker = `code4py-cli-${randomUUID()}`;
    // The test starts a child that carries the marker, so the host can look for it in its process table.
    const dir = await project({ 'test_hang.py': `import subprocess\nimport sys\n\n\ndef test_hang():\n    subprocess.run([sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])\n` });
    const started = performance.now();
    const run = await code4py(['validate', dir], { interruptAfterMs: 3000 });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('interrupted');
    expect(run.leftBehind).toEqual([]);
    expect(await processesWith(marker)).toEqual([]);
  });
});
