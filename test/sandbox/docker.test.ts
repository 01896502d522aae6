import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Parser, type ReadEntry } from 'tar';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SandboxUnavailableError, UsageError } from '../../src/errors.js';
import { buildRunArgs, DEFAULT_DOCKER_IMAGE, DockerSandbox, readDockerImage, SANDBOX_UID, type DockerRunSpec } from '../../src/sandbox/docker.js';
import { DEFAULT_PYTHON, findDockerClient, getSandbox } from '../../src/sandbox/select.js';
import { DEFAULT_LIMITS, type RunLimits } from '../../src/sandbox/types.js';

/**
 * The docker backend without an engine: the argument vector checked as data, and the process handling
 * (timeouts, aborts, cleanup, the choice of client) for real against a fake client (fake-docker.mjs) that
 * records its calls. docker-live.test.ts runs the same backend against a real engine.
 */

const HERE = dirname(fileURLToPath(import.meta.url));
const CLIENT_ENV_NAMES = [
  'PATH', 'HOME', 'DOCKER_HOST', 'DOCKER_CONTEXT', 'DOCKER_CONFIG', 'DOCKER_CERT_PATH', 'DOCKER_TLS_VERIFY', 'XDG_RUNTIME_DIR',
  'CONTAINERS_CONF', 'CONTAINERS_STORAGE_CONF', 'CONTAINER_HOST', 'CONTAINER_CONNECTION', 'XDG_CONFIG_HOME', 'XDG_DATA_HOME',
];

interface Call {
  readonly argv: string[];
  readonly env: Record<string, string>;
  readonly pid: number;
  readonly cwd: string;
}

interface FakeDocker {
  readonly dir: string;
  readonly path: string;
  calls(): Promise<Call[]>;
  containers(): Promise<string[]>;
  stdinOf(name: string): Promise<Buffer>;
}

const cleanups: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A `docker` (or `podman`) executable in a fresh folder, playing `scenario` (see fake-docker.mjs). */
async function fakeDocker(scenario: object, client: 'docker' | 'podman' = 'docker'): Promise<FakeDocker> {
  const dir = await tempDir('code4py-fake-docker-');
  await copyFile(join(HERE, 'fake-docker.mjs'), join(dir, 'fake-docker.mjs'));
  await writeFile(join(dir, 'scenario.json'), JSON.stringify(scenario));
  await writeFile(join(dir, client), `#!/bin/sh\nexec '${process.execPath}' '${dir}/fake-docker.mjs' "$@"\n`, { mode: 0o755 });
  return {
    dir,
    path: join(dir, client),
    calls: async () =>
      (await readFile(join(dir, 'calls.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Call),
    containers: async () => readdir(join(dir, 'containers')).catch(() => []),
    stdinOf: (name) => readFile(join(dir, `stdin-${name}.tar`)),
  };
}

function sandboxFor(fake: FakeDocker): DockerSandbox {
  return new DockerSandbox({ dockerPath: fake.path, image: DEFAULT_DOCKER_IMAGE, python: DEFAULT_PYTHON, clientGraceMs: 300 });
}

/** The run's user: the bot's own uid, or the image's sandbox user when the bot is root. */
const RUN_USER = process.getuid?.() === 0 ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : { uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0 };

/** Waits until the fake engine has made a container. */
async function untilContainer(fake: FakeDocker): Promise<void> {
  while ((await fake.containers()).length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
}

function nameOf(call: Call): string {
  return call.argv[call.argv.indexOf('--name') + 1]!;
}

/**
 * Checks what followed a run that had to be stopped: `docker kill`, then `docker rm`, then (when the client
 * itself had to be killed) a `docker ps` proving no container of the run is left; and that the fake engine
 * holds no container and the client is dead.
 */
async function expectStopped(fake: FakeDocker, clientKilled: boolean): Promise<void> {
  const calls = await fake.calls();
  const name = nameOf(calls[0]!);
  expect(calls.slice(1).map((c) => c.argv)).toEqual([
    ['kill', '--signal', 'KILL', name],
    ['rm', '--force', '--volumes', name],
    ...(clientKilled ? [['ps', '--all', '--quiet', '--filter', `name=^${name}$`]] : []),
  ]);
  expect(await alive(calls[0]!.pid)).toBe(false);
  expect(await fake.containers()).toEqual([]);
}

/** Whether a host process is alive (a zombie is not). */
async function alive(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return state !== '' && state !== 'Z';
}

async function tarEntries(archive: Buffer): Promise<Map<string, { type: string; linkpath: string; content: string }>> {
  const entries = new Map<string, { type: string; linkpath: string; content: string }>();
  await new Promise<void>((resolve, reject) => {
    const parser = new Parser({
      onReadEntry: (entry: ReadEntry) => {
        const chunks: Buffer[] = [];
        entry.on('data', (chunk: Buffer) => chunks.push(chunk));
        entry.on('end', () => entries.set(entry.path, { type: entry.type, linkpath: entry.linkpath ?? '', content: Buffer.concat(chunks).toString('utf8') }));
      },
    });
    parser.on('end', () => resolve());
    parser.on('error', reject);
    parser.end(archive);
  });
  return entries;
}

/**
 * Written out rather than spread from DEFAULT_LIMITS: every value differs from the default and from the
 * others, so the expected vector below shows each limit landing at its own flag (and 7.2 s rounding up to 8).
 */
const LIMITS: RunLimits = {
  cpuSeconds: 7.2,
  memoryBytes: 256 * 1024 * 1024,
  processes: 32,
  fileSizeBytes: 8 * 1024 * 1024,
  openFiles: 64,
  wallTimeMs: 5000,
  outputBytes: 1024,
};

const SPEC: DockerRunSpec = {
  name: 'code4py-sandbox-1234',
  image: 'code4py-sandbox',
  python: '/usr/bin/python3',
  user: { uid: 10001, gid: 10001 },
  cpus: 1.5,
  limits: LIMITS,
  command: ['python', '-I', '-c', 'print(1)'],
  env: { PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' },
  mounts: [
    { host: '/tmp/code4py-out-1', sandbox: '/out', writable: true },
    { host: '/tmp/code4py-scripts', sandbox: '/scripts', writable: false },
  ],
  channel: true,
};

describe('the docker run command', () => {
  // The vector is spelled out on purpose: it is the statement of what isolation each run asks the engine for,
  // so a flag dropped or changed in buildRunArgs has to show up here.
  it('is exactly this argument vector for a run with limits, tool settings, mounts and a channel', () => {
    expect(buildRunArgs(SPEC)).toEqual([
      'run', '--interactive',
      '--name', 'code4py-sandbox-1234',
      '--label', 'code4py.sandbox=1',
      '--pull', 'never',
      '--log-driver', 'none',
      '--network', 'none',
      '--ipc', 'private',
      '--hostname', 'sandbox',
      '--read-only',
      '--cap-drop', 'ALL',
      '--security-opt', 'no-new-privileges',
      '--user', '10001:10001',
      '--pids-limit', '32',
      '--memory', '268435456',
      '--memory-swap', '268435456',
      '--cpus', '1.5',
      '--tmpfs', '/tmp:rw,exec,nosuid,nodev,size=268435456,mode=1777',
      '--tmpfs', '/work:rw,exec,nosuid,nodev,size=268435456,mode=1777',
      '--workdir', '/work',
      '--mount', 'type=bind,source=/tmp/code4py-out-1,target=/out',
      '--mount', 'type=bind,source=/tmp/code4py-scripts,target=/scripts,readonly',
      '--env', 'PATH=/usr/bin:/bin',
      '--env', 'HOME=/tmp',
      '--env', 'LANG=C.UTF-8',
      '--env', 'LOGNAME=sandbox',
      '--env', 'PYTHONDONTWRITEBYTECODE=1',
      '--env', 'PYTEST_DISABLE_PLUGIN_AUTOLOAD=1',
      '--entrypoint', '/bin/sh',
      'code4py-sandbox',
      '-c', 'tar -x -o -f - -C /work || exit 123; ulimit -c 0 && ulimit -t 8 && ulimit -f 16384 && ulimit -n 64 || exit 124; exec "$@" 4>&1 1>&2 </dev/null',
      'code4py-sandbox',
      '/usr/bin/python3', '-I', '-c', 'print(1)',
    ]);
  });

  it('keeps the command\'s own streams when no channel is asked for', () => {
    const args = buildRunArgs({ ...SPEC, channel: false, mounts: [] });
    expect(args).toContain('tar -x -o -f - -C /work || exit 123; ulimit -c 0 && ulimit -t 8 && ulimit -f 16384 && ulimit -n 64 || exit 124; exec "$@" </dev/null');
    expect(args).not.toContain('--mount');
  });

  it('takes every limit from the run\'s limits: the cgroup ones as flags, the per-process ones in the launcher', () => {
    const args = buildRunArgs({ ...SPEC, limits: { ...DEFAULT_LIMITS, processes: 7, memoryBytes: 100 * 1024 * 1024, cpuSeconds: 3, fileSizeBytes: 4096, openFiles: 20 } });
    const after = (flag: string, value: string): boolean => args.some((arg, i) => arg === flag && args[i + 1] === value);
    expect(after('--pids-limit', '7')).toBe(true);
    expect(after('--memory', String(100 * 1024 * 1024))).toBe(true);
    expect(after('--memory-swap', String(100 * 1024 * 1024))).toBe(true);
    expect(after('--tmpfs', `/work:rw,exec,nosuid,nodev,size=${100 * 1024 * 1024},mode=1777`)).toBe(true);
    // The shell counts file sizes in 512-byte blocks: 4096 bytes are 8.
    expect(args[args.indexOf('-c') + 1]).toContain('ulimit -c 0 && ulimit -t 3 && ulimit -f 8 && ulimit -n 20 || exit 124;');
  });

  it('asks the engine for no rlimit, so podman keeps its defaults within the host\'s own limits', () => {
    expect(buildRunArgs(SPEC)).not.toContain('--ulimit');
  });

  it('puts no value of the bot\'s environment into the command, only its fixed settings and allowed tool settings', () => {
    const secret = `sk-test-${randomUUID()}`;
    process.env.OPENAI_API_KEY = secret;
    try {
      const args = buildRunArgs({ ...SPEC, env: { COVERAGE_CORE: 'sysmon' } });
      expect(args.join('\n')).not.toContain(secret);
      const envs = args.filter((_, i) => args[i - 1] === '--env').map((pair) => pair.split('=')[0]);
      expect(envs).toEqual(['PATH', 'HOME', 'LANG', 'LOGNAME', 'PYTHONDONTWRITEBYTECODE', 'COVERAGE_CORE']);
      // `--env NAME` without a value would copy the client's variable in; every entry carries its value.
      for (const [i, arg] of args.entries()) if (args[i - 1] === '--env') expect(arg).toMatch(/^[A-Z_]+=/);
    } finally {
      delete process.env.OPENAI_API_KEY;
    }
  });

  it('refuses a secret-named variable, or any name that is not a tool setting', () => {
    for (const name of ['OPENAI_API_KEY', 'GITHUB_TOKEN', 'PRIVATE_KEY', 'WEBHOOK_SECRET', 'AWS_SECRET_ACCESS_KEY', 'LD_PRELOAD', 'DOCKER_HOST']) {
      expect(() => buildRunArgs({ ...SPEC, env: { [name]: 'x' } })).toThrow(`refusing to pass ${name} into the sandbox`);
    }
  });

  it('refuses mount paths docker would read as more options, and mounts over the work area', () => {
    expect(() => buildRunArgs({ ...SPEC, mounts: [{ host: '/tmp/a,readonly=false', sandbox: '/out', writable: true }] })).toThrow(/without commas/);
    expect(() => buildRunArgs({ ...SPEC, mounts: [{ host: 'relative', sandbox: '/out', writable: true }] })).toThrow(/must be absolute/);
    expect(() => buildRunArgs({ ...SPEC, mounts: [{ host: '/tmp/x', sandbox: '/work', writable: true }] })).toThrow('cannot mount over /work');
  });
});

describe('CODE4PY_DOCKER_IMAGE', () => {
  it('defaults to code4py-sandbox and takes any image reference', () => {
    expect(readDockerImage({})).toBe('code4py-sandbox');
    expect(readDockerImage({ CODE4PY_DOCKER_IMAGE: '' })).toBe('code4py-sandbox');
    expect(readDockerImage({ CODE4PY_DOCKER_IMAGE: 'registry.example.com:5000/team/code4py-sandbox:1.2' })).toBe('registry.example.com:5000/team/code4py-sandbox:1.2');
    expect(readDockerImage({ CODE4PY_DOCKER_IMAGE: `code4py-sandbox@sha256:${'a'.repeat(64)}` })).toBe(`code4py-sandbox@sha256:${'a'.repeat(64)}`);
  });

  it('refuses what is not an image reference, so it can never become an option of docker run', () => {
    for (const bad of ['--privileged', '-v/:/host', 'Code4Py Sandbox', 'image;rm -rf /']) {
      expect(() => readDockerImage({ CODE4PY_DOCKER_IMAGE: bad })).toThrow(UsageError);
      expect(() => readDockerImage({ CODE4PY_DOCKER_IMAGE: bad })).toThrow(/CODE4PY_DOCKER_IMAGE: must be a docker image reference/);
    }
  });
});

describe('the docker backend running the client (fake docker)', () => {
  let work: string;
  beforeEach(async () => {
    work = await tempDir('code4py-docker-work-');
  });

  it('relays the run\'s output and status, then inspects and removes its container', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { stdout: 'hello out\n', stderr: 'hello err\n', exitCode: 3 } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    expect(result).toMatchObject({ exitCode: 3, signal: null, stdout: 'hello out\n', stderr: 'hello err\n', timedOut: false, aborted: false, outOfMemory: false, channel: '' });
    const calls = await fake.calls();
    const name = nameOf(calls[0]!);
    expect(calls.map((c) => c.argv)).toEqual([
      buildRunArgs({ name, image: DEFAULT_DOCKER_IMAGE, python: DEFAULT_PYTHON, user: RUN_USER, cpus: 1, limits: DEFAULT_LIMITS, command: ['python', '-c', 'pass'], channel: false }),
      ['inspect', '--type', 'container', '--format', '{{json .State}}', name],
      ['rm', '--force', '--volumes', name],
    ]);
    expect(await fake.containers()).toEqual([]);
    expect(await alive(calls[0]!.pid)).toBe(false);
  });

  it('gives the docker client none of the bot\'s environment but what reaches the engine', async () => {
    const secret = `sk-test-${randomUUID()}`;
    const engine = `unix:///tmp/code4py-engine-${randomUUID()}.sock`;
    const dockerHost = process.env.DOCKER_HOST;
    process.env.OPENAI_API_KEY = secret;
    process.env.CODE4PY_HOSTILE_SECRET = secret;
    process.env.DOCKER_HOST = engine;
    try {
      const fake = await fakeDocker({ engine: 'up', run: {} });
      await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
      const calls = await fake.calls();
      expect(calls.map((c) => c.argv[0])).toEqual(['run', 'rm']);
      for (const call of calls) {
        // The engine's address does reach every client call; nothing else of the bot's does.
        expect(call.env.DOCKER_HOST).toBe(engine);
        expect(JSON.stringify(call)).not.toContain(secret);
        // What the shell and node add on their own (PWD, SHLVL, _) is theirs, not the bot's.
        const own = Object.keys(call.env).filter((name) => !['PWD', 'SHLVL', '_', 'OLDPWD'].includes(name));
        for (const name of own) expect(CLIENT_ENV_NAMES).toContain(name);
      }
    } finally {
      delete process.env.OPENAI_API_KEY;
      delete process.env.CODE4PY_HOSTILE_SECRET;
      if (dockerHost === undefined) delete process.env.DOCKER_HOST;
      else process.env.DOCKER_HOST = dockerHost;
    }
  });

  it('refuses a secret-named variable before any docker command runs', async () => {
    const fake = await fakeDocker({ engine: 'up', run: {} });
    await expect(sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work, env: { GITHUB_TOKEN: 'ghs_x' } })).rejects.toThrow(/refusing to pass GITHUB_TOKEN/);
    expect(await fake.calls()).toEqual([]);
  });

  it('copies the work folder in as a tar stream on stdin, storing links as links and never following them', async () => {
    const hostSecret = `host-secret-${randomUUID()}`;
    const outside = await tempDir('code4py-outside-');
    await writeFile(join(outside, 'secret.txt'), hostSecret);
    await mkdir(join(work, 'pkg'));
    await writeFile(join(work, 'pkg', 'mod.py'), 'VALUE = 1\n');
    await writeFile(join(work, 'test_mod.py'), 'def test_value():\n    assert True\n');
    await symlink(join(outside, 'secret.txt'), join(work, 'link.txt'));
    const fake = await fakeDocker({ engine: 'up', run: {} });
    await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    const archive = await fake.stdinOf(nameOf((await fake.calls())[0]!));
    expect(archive.toString('latin1')).not.toContain(hostSecret);
    const entries = await tarEntries(archive);
    expect(entries.get('pkg/mod.py')).toMatchObject({ type: 'File', content: 'VALUE = 1\n' });
    expect(entries.get('test_mod.py')).toMatchObject({ type: 'File', content: 'def test_value():\n    assert True\n' });
    expect(entries.get('link.txt')).toMatchObject({ type: 'SymbolicLink', linkpath: join(outside, 'secret.txt') });
  });

  it('with a channel, gives the container\'s stdout as the channel and the run\'s output as stderr', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { stdout: '{"files": []}', stderr: '1 passed\n' } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work, channel: true });
    expect(result).toMatchObject({ channel: '{"files": []}', stdout: '', stderr: '1 passed\n', stdoutTruncated: false });
  });

  it('keeps the first bytes of a flood of output and marks the cut', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { stdoutBytes: 8 * 1024 * 1024 } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work, limits: { outputBytes: 64 * 1024 } });
    expect(result.stdoutTruncated).toBe(true);
    expect(result.stdout.startsWith('x'.repeat(64 * 1024))).toBe(true);
    expect(result.stdout).toContain('output truncated by the sandbox');
    expect(result.stdout.length).toBeLessThan(64 * 1024 + 200);
  });

  it('after a run that exited 0 only removes its container, asking the engine nothing more', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { stdout: 'ok\n' } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'print("ok")'], workDir: work });
    expect(result).toMatchObject({ exitCode: 0, stdout: 'ok\n', outOfMemory: false });
    expect((await fake.calls()).map((c) => c.argv[0])).toEqual(['run', 'rm']);
  });

  it('reports a run the engine killed for memory', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { exitCode: 137, oomKilled: true } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    expect(result).toMatchObject({ outOfMemory: true, exitCode: 137, timedOut: false });
  });

  it('reports a memory kill that podman only records as a file in the client\'s folder, and leaves that folder behind nowhere', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { exitCode: 137, oomFile: true } }, 'podman');
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    expect(result).toMatchObject({ outOfMemory: true, exitCode: 137 });
    const run = (await fake.calls())[0]!;
    // The client ran in a folder of its own, never in the bot's working directory, and that folder is gone.
    expect(run.cwd).not.toBe(process.cwd());
    expect(run.cwd.startsWith(tmpdir())).toBe(true);
    expect(existsSync(run.cwd)).toBe(false);
  });

  it('reports no memory kill for a run killed otherwise (SIGKILL at the CPU limit)', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { exitCode: 137 } }, 'podman');
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    expect(result).toMatchObject({ outOfMemory: false, exitCode: 137 });
  });

  it('reports exit status 125 of a started run as the run\'s own', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { exitCode: 125 } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'raise SystemExit(125)'], workDir: work });
    expect(result.exitCode).toBe(125);
  });

  it('throws, with docker\'s reason, when the engine could not start the container, and removes it', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { failToStart: true } });
    const run = sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    await expect(run).rejects.toThrow(SandboxUnavailableError);
    await expect(run).rejects.toThrow(/docker could not run the sandbox container: docker: Error response from daemon: failed to create task/);
    expect(await fake.containers()).toEqual([]);
  });

  it('throws when podman\'s runtime could not start the container (exit 126), and removes it', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { failToStart: true, failExitCode: 126 } }, 'podman');
    const run = sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work });
    await expect(run).rejects.toThrow(SandboxUnavailableError);
    expect(await fake.containers()).toEqual([]);
  });

  it('reports exit status 126 or 127 of a started run as the run\'s own', async () => {
    for (const exitCode of [126, 127]) {
      const fake = await fakeDocker({ engine: 'up', run: { exitCode } }, 'podman');
      const result = await sandboxFor(fake).run({ command: ['sh', '-c', `exit ${exitCode}`], workDir: work });
      expect(result.exitCode).toBe(exitCode);
    }
  });

  it('at the wall-clock limit kills the container with docker kill, then removes it', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { hang: true } });
    const started = performance.now();
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'while True: pass'], workDir: work, limits: { wallTimeMs: 1500 } });
    expect(performance.now() - started).toBeLessThan(6000);
    expect(result).toMatchObject({ timedOut: true, aborted: false, exitCode: null, signal: 'SIGKILL' });
    await expectStopped(fake, false);
  });

  it('when its caller aborts kills the container with docker kill, then removes it', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { hang: true } });
    const abort = new AbortController();
    const run = sandboxFor(fake).run({ command: ['python', '-c', 'import time; time.sleep(60)'], workDir: work, signal: abort.signal });
    await untilContainer(fake);
    abort.abort();
    const result = await run;
    expect(result).toMatchObject({ aborted: true, timedOut: false, exitCode: null });
    await expectStopped(fake, false);
  });

  it('kills the client when there is no container to kill yet, so it can never start one, and checks that none is left', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { hang: true, startDelayMs: 2000 } });
    // A long grace: the client must be killed because the kill found nothing, not because it overstayed.
    const sandbox = new DockerSandbox({ dockerPath: fake.path, image: DEFAULT_DOCKER_IMAGE, python: DEFAULT_PYTHON, clientGraceMs: 60_000 });
    const result = await sandbox.run({ command: ['python', '-c', 'pass'], workDir: work, limits: { wallTimeMs: 200 } });
    expect(result.timedOut).toBe(true);
    await expectStopped(fake, true);
    // Had the client lived on, it would have made its container by now.
    await new Promise((resolve) => setTimeout(resolve, 2200));
    expect(existsSync(join(fake.dir, 'created.log'))).toBe(false);
    expect(await fake.containers()).toEqual([]);
  });

  it('kills a client that does not leave after its container was killed, and removes the container', async () => {
    const fake = await fakeDocker({ engine: 'up', run: { hang: true, ignoreKill: true } });
    const result = await sandboxFor(fake).run({ command: ['python', '-c', 'pass'], workDir: work, limits: { wallTimeMs: 1500 } });
    expect(result.timedOut).toBe(true);
    await expectStopped(fake, true);
  });
});

describe('choosing the sandbox', () => {
  const PYTHON_INFO = JSON.stringify({ version: '3.11.2', stdlib: ['json', 'os'], pytest: '7.2.1', coverage: '6.5.0' });

  it('with auto, no bubblewrap and a docker engine that does not answer, refuses to run code and says what to install', async () => {
    const fake = await fakeDocker({ engine: 'down' });
    const error = await getSandbox('auto', DEFAULT_PYTHON, { searchPath: fake.dir }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain('No sandbox backend works here: bubblewrap (bwrap) is not installed.');
    expect(message).toContain('apt-get install bubblewrap python3 python3-pytest python3-coverage');
    expect(message).toContain('The docker backend cannot be used either: the Docker engine does not answer `docker version` (Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?)');
    expect(message).toContain('apt-get install podman runc podman-docker');
    expect(message).toContain('sandbox/build-image.sh');
    expect(message).toContain('docker build -t code4py-sandbox sandbox/');
    expect((await fake.calls()).map((c) => c.argv[0])).toEqual(['version']);
  });

  it('with docker and neither docker nor podman, says to install an engine', async () => {
    const empty = await tempDir('code4py-no-docker-');
    await expect(getSandbox('docker', DEFAULT_PYTHON, { searchPath: empty })).rejects.toThrow(
      'No sandbox backend works here: neither the docker client nor podman is installed. For the docker backend, run a container engine on this machine (Debian/Ubuntu: `apt-get install podman runc podman-docker`',
    );
  });

  it('with docker and an engine without the image, says how to build it', async () => {
    const fake = await fakeDocker({ engine: 'up', images: [] });
    await expect(getSandbox('docker', DEFAULT_PYTHON, { searchPath: fake.dir, dockerImage: 'team/sandbox:2' })).rejects.toThrow(
      'No sandbox backend works here: the Docker engine has no image team/sandbox:2: build it from Code4Py\'s checkout, as root, `CODE4PY_DOCKER_IMAGE=team/sandbox:2 sandbox/build-image.sh` (from Debian\'s archive, no registry needed), or `docker build -t team/sandbox:2 sandbox/` where Docker Hub is reachable; or set CODE4PY_DOCKER_IMAGE to an image built either way.',
    );
    expect((await fake.calls()).map((c) => c.argv.slice(0, 2))).toEqual([['version', '--format'], ['image', 'inspect']]);
  });

  it('with docker and an image whose Python does not start, says so', async () => {
    const fake = await fakeDocker({ engine: 'up', images: ['code4py-sandbox'], run: { stderr: '/bin/sh: 1: exec: /usr/bin/python3: not found\n', exitCode: 127 } });
    await expect(getSandbox('docker', DEFAULT_PYTHON, { searchPath: fake.dir, dockerImage: 'code4py-sandbox' })).rejects.toThrow(
      'No sandbox backend works here: the image code4py-sandbox could not run /usr/bin/python3 (/bin/sh: 1: exec: /usr/bin/python3: not found).',
    );
  });

  it('with auto and no bubblewrap, takes docker when its engine answers and has the image', async () => {
    const fake = await fakeDocker({ engine: 'up', images: ['code4py-sandbox'], run: { stdout: PYTHON_INFO } });
    const ready = await getSandbox('auto', DEFAULT_PYTHON, { searchPath: fake.dir, dockerImage: 'code4py-sandbox' });
    expect(ready.sandbox.backend).toBe('docker');
    expect(ready.python).toEqual(JSON.parse(PYTHON_INFO));
    const run = (await fake.calls()).find((c) => c.argv[0] === 'run')!;
    expect(run.argv.slice(-4, -1)).toEqual([DEFAULT_PYTHON, '-I', '-c']);
  });

  it('takes podman when the docker client\'s engine does not answer, and says what each said when neither does', async () => {
    const docker = await fakeDocker({ engine: 'down' });
    const podman = await fakeDocker({ engine: 'up', images: ['code4py-sandbox'], run: { stdout: PYTHON_INFO } }, 'podman');
    const found = await findDockerClient(`${docker.dir}:${podman.dir}`, {});
    expect(found).toEqual({ name: 'podman', path: podman.path, version: '28.2.2' });
    const ready = await getSandbox('docker', DEFAULT_PYTHON, { searchPath: `${docker.dir}:${podman.dir}`, dockerImage: 'code4py-sandbox' });
    expect((await podman.calls()).some((c) => c.argv[0] === 'run')).toBe(true);
    expect(ready.sandbox.backend).toBe('docker');
    const podmanDown = await fakeDocker({ engine: 'down' }, 'podman');
    await expect(findDockerClient(`${docker.dir}:${podmanDown.dir}`, {})).rejects.toThrow(
      /^the Docker engine does not answer `docker version` \(Cannot connect to the Docker daemon.*\); podman cannot run containers \(`podman version`: Cannot connect.*\)\. Start the engine, or point DOCKER_HOST at one\.$/,
    );
  });

  it('tries only the docker client when DOCKER_HOST names its engine', async () => {
    const docker = await fakeDocker({ engine: 'down' });
    const podman = await fakeDocker({ engine: 'up' }, 'podman');
    await expect(findDockerClient(`${docker.dir}:${podman.dir}`, { DOCKER_HOST: 'unix:///nonexistent/docker.sock' })).rejects.toThrow(/^the Docker engine does not answer/);
    expect(await podman.calls()).toEqual([]);
  });

  it('with auto, takes bubblewrap first where it works', async () => {
    const ready = await getSandbox('auto');
    expect(ready.sandbox.backend).toBe('bwrap');
  });
});

describe('the sandbox image\'s two recipes', () => {
  it('install the same Debian packages, whether built from the archive (build-image.sh) or from Docker Hub (Dockerfile)', async () => {
    const script = await readFile(join(HERE, '../../sandbox/build-image.sh'), 'utf8');
    const dockerfile = await readFile(join(HERE, '../../sandbox/Dockerfile'), 'utf8');
    const fromScript = /^PACKAGES=(\S+)$/m.exec(script)?.[1]?.split(',') ?? [];
    const fromDockerfile = /apt-get install -y --no-install-recommends ([^\\&\n]+)/.exec(dockerfile)?.[1]?.trim().split(/\s+/) ?? [];
    expect(fromScript).toContain('python3-pytest');
    expect(fromDockerfile.sort()).toEqual(fromScript.sort());
  });
});
