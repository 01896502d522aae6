import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationConfigSchema } from '../../../src/config/schema.js';
import { getSandbox, type ReadySandbox } from '../../../src/sandbox/select.js';
import { SYSTEM_RUNTIME } from '../../../src/validate/runtime.js';
import { EnvironmentCache } from '../../../src/validate/environment/cache.js';
import { readEnvironmentSettings, type EnvironmentSettings } from '../../../src/validate/environment/env.js';
import { prepareEnvironment, type PreparedEnvironment } from '../../../src/validate/environment/prepare.js';
import { runTests } from '../../../src/validate/stages/tests.js';
import { writeWorkspace, type Workspace } from '../../../src/validate/workspace.js';
import { useHostListener } from '../../helpers/hostile.js';
import { buildSdists, buildWheels, debianWheels, servePackageIndex, type PackageIndexServer } from '../../helpers/package-index.js';
import { watchedSandbox } from '../../helpers/validation-ports.js';

/**
 * The environment stage against the real sandbox, real pip and a PEP 503 index on loopback serving wheels
 * built from small fixture packages. What reached the index is judged by the index's own access log.
 */
const GREET = { name: 'greet', version: '1.2.0', files: { 'greet/__init__.py': 'def hello(name):\n    return f"hello {name}"\n' } };
const SHOUT = { name: 'shout', version: '0.1.0', files: { 'shout/__init__.py': 'from greet import hello\n\n\ndef shout(name):\n    return hello(name).upper()\n' }, dependencies: ['greet>=1'] };
/** Only a source distribution of it is on the index. */
const SOURCE_ONLY = { name: 'srconly', version: '0.5.0', files: { 'srconly/__init__.py': 'ANSWER = 42\n' } };
const GREET_ELSEWHERE = { name: 'greet', version: '9.9.9', files: { 'greet/__init__.py': 'def hello(name):\n    return "wrong index"\n' } };

const SETUPTOOLS_PROJECT = (extra = ''): string =>
  `[build-system]\nrequires = ["setuptools>=61", "wheel"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "mylib"\nversion = "0.3.1"\ndependencies = ["greet>=1"]\n${extra}`;

let ready: ReadySandbox;
let index: PackageIndexServer;
let scratch: string;
const workspaces: Workspace[] = [];
const prepared: PreparedEnvironment[] = [];

beforeAll(async () => {
  ready = await getSandbox('bwrap');
  const wheels = await buildWheels([GREET, SHOUT]);
  index = await servePackageIndex([...wheels, ...(await buildSdists([SOURCE_ONLY])), ...(await debianWheels(['setuptools', 'wheel']))]);
  scratch = await mkdtemp(join(tmpdir(), 'code4py-env-test-'));
}, 120_000);

afterAll(async () => {
  await Promise.all(prepared.map((p) => p.dispose()));
  await Promise.all(workspaces.map((w) => w.dispose()));
  await index?.close();
  await rm(scratch, { recursive: true, force: true });
});

function settingsFor(cacheName: string, indexUrl = index.url, more: NodeJS.ProcessEnv = {}): EnvironmentSettings {
  return readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: indexUrl, CODE4PY_ENV_CACHE_DIR: join(scratch, cacheName), ...more });
}

async function workspace(files: Record<string, string>): Promise<Workspace> {
  const ws = await writeWorkspace(Object.entries(files).map(([path, text]) => ({ path, content: Buffer.from(text) })));
  workspaces.push(ws);
  return ws;
}

async function prepare(ws: Workspace, settings: EnvironmentSettings, config: unknown = {}, extra: { solutionRequirements?: string[]; cache?: EnvironmentCache } = {}): Promise<PreparedEnvironment> {
  const env = await prepareEnvironment(
    { root: ws.root, files: ws.files, config: ValidationConfigSchema.parse(config), ...(extra.solutionRequirements ? { solutionRequirements: extra.solutionRequirements } : {}) },
    { sandbox: ready, settings, ...(extra.cache ? { cache: extra.cache } : {}) },
  );
  prepared.push(env);
  return env;
}

const fileRequests = (name: string): number => index.requests.filter((r) => r.startsWith(`GET /files/${name}-`)).length;

const SHOUT_PROJECT = {
  'requirements.txt': 'shout>=0.1\n',
  'app.py': 'from shout import shout\n\n\ndef greet_loudly(name):\n    return shout(name)\n',
  'test_app.py': 'from app import greet_loudly\n\n\ndef test_loud():\n    assert greet_loudly("ann") == "HELLO ANN"\n',
};

describe('environment stage', () => {
  /** A port on the host that the install run must never reach. */
  const listener = useHostListener();

  it('installs the declared requirements (and theirs), and the tests that import them pass', async () => {
    const ws = await workspace(SHOUT_PROJECT);
    const env = await prepare(ws, settingsFor('shared'));
    expect(env.stage).toMatchObject({ name: 'environment', status: 'passed' });
    expect(env.stage.summary).toContain('1 requirement installed');
    expect(env.installed?.distributions.map((d) => `${d.name} ${d.version}`)).toEqual(expect.arrayContaining(['greet 1.2.0', 'shout 0.1.0']));
    expect(env.python).toEqual({ version: ready.python.version, path: ready.sandbox.python });
    expect(fileRequests('shout')).toBe(1);

    const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { runtime: env.runtime });
    expect(run.tests.status).toBe('passed');
    expect(run.counts.passed).toBe(1);
  });

  it('makes no request to the index from the test run, even when the tests try', async () => {
    const ws = await workspace({
      ...SHOUT_PROJECT,
      'test_net.py': `import socket, urllib.request\n\n\ndef test_index_is_unreachable():\n    for attempt in (lambda: urllib.request.urlopen("${index.url}shout/", timeout=3), lambda: socket.create_connection(("127.0.0.1", ${index.port}), timeout=3)):\n        try:\n            attempt()\n        except OSError:\n            continue\n        raise AssertionError("reached the index")\n`,
    });
    const env = await prepare(ws, settingsFor('shared'));
    const before = index.requests.length;
    const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { runtime: env.runtime });
    expect(run.counts).toMatchObject({ passed: 2, failed: 0, errors: 0 });
    expect(index.requests.length).toBe(before);
  });

  it('takes a second preparation of the same requirements from the cache, with no request to the index', async () => {
    const first = await prepare(await workspace(SHOUT_PROJECT), settingsFor('shared'));
    const before = index.requests.length;
    const started = performance.now();
    const second = await prepare(await workspace({ ...SHOUT_PROJECT, 'other.py': 'X = 1\n' }), settingsFor('shared'));
    const elapsed = performance.now() - started;
    expect(second.cached).toBe(true);
    expect(second.stage.summary).toContain('(cached)');
    expect(index.requests.length).toBe(before);
    expect(second.runtime.mounts.find((m) => m.sandbox === '/env')).toEqual(first.runtime.mounts.find((m) => m.sandbox === '/env'));
    expect(second.runtime.mounts.every((m) => !m.writable)).toBe(true);
    expect(elapsed).toBeLessThan(5000); // generous: the figure that matters is in bench:environment
  });

  it('fails naming a requirement the index does not have, with its file and line, and says it came from the solution', async () => {
    const ws = await workspace({ 'requirements.txt': 'greet\nnosuch-pkg>=1\n', 'test_x.py': 'def test_x():\n    assert True\n' });
    const env = await prepare(ws, settingsFor('missing'), {}, { solutionRequirements: ['nosuch-pkg>=1'] });
    expect(env.stage.status).toBe('failed');
    expect(env.stage.summary).toContain('nosuch-pkg');
    expect(env.stage.findings[0]).toMatchObject({ path: 'requirements.txt', line: 2, rule: 'requirement-not-installable', severity: 'error' });
    expect(env.stage.findings[0]?.message).toMatch(/`nosuch-pkg>=1` cannot be installed: it is not on the index/);
    expect(env.installed?.failed).toEqual([expect.objectContaining({ name: 'nosuch-pkg', path: 'requirements.txt', line: 2, fromSolution: true })]);
    expect(env.runtime).toBe(SYSTEM_RUNTIME);
  });

  it('installs wheels only by default, saying a source distribution needs allow_sdist; with it, builds the sdist in the install run', async () => {
    const files = { 'requirements.txt': 'srconly\n', 'test_src.py': 'from srconly import ANSWER\n\n\ndef test_answer():\n    assert ANSWER == 42\n' };
    const refused = await prepare(await workspace(files), settingsFor('sdist'));
    expect(refused.stage.status).toBe('failed');
    expect(refused.stage.findings[0]).toMatchObject({ path: 'requirements.txt', line: 1, rule: 'requirement-not-installable' });
    expect(refused.stage.findings[0]?.message).toContain('source distributions are installed only with environment.allow_sdist: true');
    expect(index.requests.filter((r) => r.startsWith('GET /files/srconly'))).toEqual([]);

    const ws = await workspace(files);
    const allowed = await prepare(ws, settingsFor('sdist'), { environment: { allow_sdist: true } });
    expect(allowed.stage.status).toBe('passed');
    expect(index.requests).toContain('GET /files/srconly-0.5.0.tar.gz');
    const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { runtime: allowed.runtime });
    expect(run.counts).toMatchObject({ passed: 1, failed: 0, errors: 0 });
  });

  it('installs the project editable: importlib.metadata knows its version and the tests import the working tree', async () => {
    const ws = await workspace({
      'pyproject.toml': SETUPTOOLS_PROJECT(),
      'mylib/__init__.py': 'from greet import hello\n',
      'tests/test_meta.py': 'import importlib.metadata\n\nimport mylib\n\n\ndef test_version():\n    assert importlib.metadata.version("mylib") == "0.3.1"\n\n\ndef test_working_tree():\n    assert mylib.__file__.startswith("/work/")\n    assert mylib.hello("x") == "hello x"\n',
    });
    const env = await prepare(ws, settingsFor('shared'));
    expect(env.stage.status).toBe('passed');
    expect(env.stage.summary).toContain('project mylib 0.3.1 editable');
    const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { runtime: env.runtime });
    expect(run.counts).toMatchObject({ passed: 2, failed: 0, errors: 0 });

    const before = index.requests.length;
    const again = await prepare(await workspace({ ...Object.fromEntries(ws.files.map((f) => [f.path, f.text ?? ''])) }), settingsFor('shared'));
    expect(again.cached).toBe(true);
    expect(index.requests.length).toBe(before);
  });

  it('makes the working tree importable with minimal metadata when the build backend is not on the index, and says so', async () => {
    const ws = await workspace({
      'pyproject.toml': '[build-system]\nrequires = ["nosuch-backend"]\nbuild-backend = "nosuch_backend"\n\n[project]\nname = "other-lib"\nversion = "2.0"\n',
      'src/other_lib/__init__.py': 'VALUE = 1\n',
      'tests/test_meta.py': 'import importlib.metadata\n\nfrom other_lib import VALUE\n\n\ndef test_version():\n    assert importlib.metadata.version("other-lib") == "2.0"\n    assert VALUE == 1\n',
    });
    const env = await prepare(ws, settingsFor('shared'));
    expect(env.stage.status).toBe('warning');
    expect(env.stage.findings).toEqual([expect.objectContaining({ path: 'pyproject.toml', rule: 'project-not-installed', severity: 'warning' })]);
    expect(env.stage.findings[0]?.message).toContain('minimal metadata (name other-lib, version 2.0)');
    const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { runtime: env.runtime });
    expect(run.counts).toMatchObject({ passed: 1, failed: 0, errors: 0 });
  });

  it('builds once when two preparations (two caches on one folder, as two processes) need the same environment at once', async () => {
    const settings = settingsFor('concurrent');
    const caches = [0, 1].map(() => new EnvironmentCache({ root: settings.cacheDir, maxBytes: settings.cacheMaxBytes }));
    const before = fileRequests('greet');
    const files = { 'requirements.txt': 'greet==1.2.0\n', 'test_x.py': 'import greet\n\n\ndef test_x():\n    assert greet.hello("a")\n' };
    const [a, b] = await Promise.all(caches.map(async (cache) => prepare(await workspace(files), settings, {}, { cache })));
    expect(fileRequests('greet') - before).toBe(1);
    expect([a!.cached, b!.cached].sort()).toEqual([false, true]);
    expect(a!.runtime.mounts).toEqual(b!.runtime.mounts);
  });

  it('lets the install run reach no loopback port that is not allowed, through the proxy or around it', async () => {
    const probe = [
      'import socket, urllib.request',
      `for url in ("http://127.0.0.1:${listener.port()}/", "${index.url}greet/"):`,
      '    try:',
      '        print(url, urllib.request.urlopen(url, timeout=5).status)',
      '    except Exception as error:',
      '        print(url, "refused", error)',
      'try:',
      `    socket.create_connection(("127.0.0.1", ${listener.port()}), timeout=3)`,
      'except OSError as error:',
      '    print("direct refused", error)',
    ].join('\n');
    const ws = await workspace({ 'probe.py': probe, 'test_x.py': 'def test_x():\n    assert True\n' });
    const before = index.requests.length;
    const env = await prepare(ws, settingsFor('probe'), { environment: { setup: ['python /work/probe.py'] } });
    expect(env.stage.status).toBe('passed');
    expect(listener.connections()).toBe(0);
    // The same script did reach the allowed index through the proxy: the way out works, for allowed hosts only.
    expect(index.requests.slice(before)).toContain('GET /simple/greet/');
  });

  it('installs from the configured index whatever a machine-wide pip configuration says', async () => {
    const elsewhere = await servePackageIndex(await buildWheels([GREET_ELSEWHERE]));
    const config = join(scratch, 'pip.conf');
    await writeFile(config, `[global]\nindex-url = ${elsewhere.url}\nextra-index-url = ${elsewhere.url}\n`);
    const saved = { PIP_CONFIG_FILE: process.env.PIP_CONFIG_FILE, PIP_INDEX_URL: process.env.PIP_INDEX_URL };
    process.env.PIP_CONFIG_FILE = config;
    process.env.PIP_INDEX_URL = elsewhere.url;
    try {
      const env = await prepare(await workspace({ 'requirements.txt': 'greet\n', 'test_x.py': 'def test_x():\n    assert True\n' }), settingsFor('pipconf'));
      expect(env.stage.status).toBe('passed');
      expect(env.installed?.distributions).toContainEqual(expect.objectContaining({ name: 'greet', version: '1.2.0' }));
      expect(elsewhere.requests).toEqual([]);
    } finally {
      for (const [name, value] of Object.entries(saved)) {
        if (value === undefined) delete process.env[name];
        else process.env[name] = value;
      }
      await elsewhere.close();
    }
  });

  it('gives the index credentials to pip in the install run only: never on a command line, never to the test run', async () => {
    const secret = 'hunter2-index-token';
    const privateIndex = await servePackageIndex(await buildWheels([GREET]), { user: 'bot', password: secret });
    const requests: Array<{ command: readonly string[]; mounts: readonly { sandbox: string }[]; env: Record<string, string> }> = [];
    const recording = watchedSandbox(ready, (request, run) => {
      requests.push({ command: request.command, mounts: request.mounts ?? [], env: { ...request.env } });
      return run(request);
    });
    try {
      const ws = await workspace({
        'requirements.txt': 'greet\n',
        'test_loot.py': `import os\n\n\ndef test_no_secret_anywhere():\n    seen = repr(dict(os.environ))\n    for pid in os.listdir("/proc"):\n        if pid.isdigit():\n            for name in ("environ", "cmdline"):\n                try:\n                    seen += open(f"/proc/{pid}/{name}", "rb").read().decode("utf-8", "replace")\n                except OSError:\n                    pass\n    for root, _, files in os.walk("/"):\n        if root.startswith(("/proc", "/sys", "/dev", "/usr")):\n            continue\n        for name in files:\n            path = os.path.join(root, name)\n            if os.path.islink(path):\n                continue\n            try:\n                seen += open(path, "rb").read(1 << 20).decode("utf-8", "replace")\n            except OSError:\n                pass\n    # Written in two halves, so that this file itself does not hold it.\n    assert "hunter2-" + "index-token" not in seen\n`,
      });
      const settings = settingsFor('private', privateIndex.url.replace('http://', `http://bot:${secret}@`));
      const env = await prepareEnvironment({ root: ws.root, files: ws.files, config: ValidationConfigSchema.parse({}) }, { sandbox: recording, settings });
      prepared.push(env);
      expect(env.stage.status).toBe('passed');
      expect(privateIndex.requests).toContain('GET /simple/greet/');
      expect(JSON.stringify(env.stage)).not.toContain(secret);
      const run = await runTests(recording.sandbox, ws.root, [], 60, undefined, { runtime: env.runtime });
      expect(run.counts).toMatchObject({ passed: 1, failed: 0, errors: 0 });
      expect(requests.length).toBeGreaterThan(1);
      expect(JSON.stringify(requests.map((r) => [r.command, r.env]))).not.toContain(secret);
      const testRun = requests[requests.length - 1]!;
      expect(testRun.mounts.map((m) => m.sandbox)).not.toContain('/code4py/secret');
      expect(testRun.mounts.map((m) => m.sandbox)).not.toContain('/code4py/proxy');
    } finally {
      await privateIndex.close();
    }
  });

  it('warns when requires-python excludes the Python that runs, and names that Python', async () => {
    // A backend the index does not have keeps this quick: the check reads the declared requires-python.
    const ws = await workspace({ 'pyproject.toml': '[build-system]\nrequires = ["nosuch-backend"]\nbuild-backend = "nosuch_backend"\n\n[project]\nname = "newlib"\nversion = "1.0"\nrequires-python = ">=3.99"\n', 'newlib/__init__.py': '' });
    const env = await prepare(ws, settingsFor('shared'));
    expect(env.stage.status).toBe('warning');
    expect(env.stage.findings).toContainEqual(expect.objectContaining({ rule: 'requires-python', path: 'pyproject.toml' }));
    expect(env.stage.findings.find((f) => f.rule === 'requires-python')?.message).toContain(`Python ${ready.python.version}`);
  });

  it('uses the nearest registered Python when the repository asks for another version, and says so', async () => {
    const env = await prepare(await workspace({ 'test_x.py': 'def test_x():\n    assert True\n' }), settingsFor('shared'), { environment: { python: '3.99' } });
    expect(env.python.path).toBe(ready.sandbox.python);
    expect(env.python.note).toMatch(new RegExp(`asks for 3\\.99; the nearest registered interpreter is Python ${ready.python.version.replace(/\./g, '\\.')}`));
    expect(env.stage.findings).toContainEqual(expect.objectContaining({ rule: 'python-version', severity: 'warning' }));
  });

  it('is skipped at no cost when nothing is declared', async () => {
    const env = await prepare(await workspace({ 'calc.py': 'X = 1\n', 'test_calc.py': 'def test_x():\n    assert True\n' }), settingsFor('shared'));
    expect(env.stage).toMatchObject({ status: 'skipped', summary: 'nothing to install' });
    expect(env.runtime).toBe(SYSTEM_RUNTIME);
    expect(env.installed).toBeNull();
  });
});
