import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdtemp, readdir, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SANDBOX_LABEL, type DockerSandbox } from '../../src/sandbox/docker.js';
import { DEFAULT_PYTHON, getSandbox } from '../../src/sandbox/select.js';
import type { RunLimits, RunResult } from '../../src/sandbox/types.js';
import { runTests } from '../../src/validate/stages/tests.js';
import { findDockerEngine } from '../helpers/docker-engine.js';
import { peakWhile, processesWith } from '../helpers/host.js';
import { escapeTargets, hostAddresses, HOSTILE, useHostListener } from '../helpers/hostile.js';
import { useTempDirs } from '../helpers/project.js';

/**
 * The docker backend against a real engine (in CI, Debian's podman with runc, installed by .ci/run; the
 * image built by sandbox/build-image.sh): the hostile code of hostile.test.ts in real containers, judged
 * by what the host sees (its listeners, its files, its process table, the engine's container list).
 * Where no engine answers these are skipped, saying so in their names, unless CODE4PY_REQUIRE_DOCKER=1
 * (CI), which makes them fail instead.
 */

const engine = await findDockerEngine();
const { live } = engine;

const { tempDir, onCleanup } = useTempDirs();

/** The host's pid namespace: processes outside it are the containers'. */
const HOST_PID_NS = await readlink('/proc/self/ns/pid');

/** Host pids of the processes inside containers whose command line carries `marker` (not the client's own). */
async function containerProcessesWith(marker: string): Promise<number[]> {
  const pids = await processesWith(marker);
  const namespaces = await Promise.all(pids.map((pid) => readlink(`/proc/${pid}/ns/pid`).catch(() => HOST_PID_NS)));
  return pids.filter((_, i) => namespaces[i] !== HOST_PID_NS);
}

/**
 * Resident anonymous memory of the processes inside containers whose command line carries `marker`: what
 * the container's memory cgroup is charged for them (their mapped files may be charged elsewhere).
 */
async function containerAnonymousBytes(marker: string): Promise<number> {
  let total = 0;
  for (const pid of await containerProcessesWith(marker)) {
    const kb = /^RssAnon:\s+(\d+) kB/m.exec(await readFile(`/proc/${pid}/status`, 'utf8').catch(() => ''))?.[1];
    if (kb) total += Number(kb) * 1024;
  }
  return total;
}

describe('the container engine', () => {
  it.runIf(engine.required)('answers (checked with CODE4PY_REQUIRE_DOCKER=1, as in CI)', () => {
    expect(engine.problem).toBe('');
  });
});

describe(`the docker sandbox against hostile code (live, ${engine.label})`, () => {
  let sandbox: DockerSandbox;
  let work: string;
  let out: string;

  beforeAll(async () => {
    // An engine without the image is a setup to fix, not a reason to skip: this fails with how to build it.
    if (!engine.skip) sandbox = (await getSandbox('docker')).sandbox as DockerSandbox;
  }, 120_000);

  beforeEach(async () => {
    work = await tempDir('code4py-docker-hostile-');
    out = await tempDir('code4py-docker-out-');
  });

  async function runPython(code: string, limits: Partial<RunLimits> = {}): Promise<{ result: RunResult; marker: string }> {
    const marker = `code4py-hostile-${randomUUID()}`;
    const result = await sandbox.run({ command: ['python', '-c', code, marker], workDir: work, mounts: [{ host: out, sandbox: '/out', writable: true }], limits });
    return { result, marker };
  }

  /** Sandbox containers the engine still lists whose command carries `marker`. */
  async function containersWith(marker: string): Promise<string[]> {
    const listed = await sandbox.docker(['ps', '--all', '--no-trunc', '--filter', `label=${SANDBOX_LABEL}`, '--format', '{{.Names}} {{.Command}}']);
    expect(listed.code).toBe(0);
    return listed.stdout.split('\n').filter((line) => line.includes(marker));
  }

  async function nothingLeft(marker: string): Promise<void> {
    expect(await processesWith(marker)).toEqual([]);
    expect(await containersWith(marker)).toEqual([]);
  }

  describe('network', () => {
    const listener = useHostListener();

    live('lets no connection reach a listener on the host, by loopback, any host address or a name', async () => {
      const { result } = await runPython(HOSTILE.connect(hostAddresses('host.docker.internal', 'host.containers.internal', 'example.com'), listener.port()));
      expect(result.exitCode).toBe(0);
      expect(listener.connections()).toBe(0);
    });

    live('reaches a unix socket of the host mounted into it, and through it nothing else', async () => {
      // The environment stage's way out: a host proxy listening on a unix socket in a folder bound in.
      const folder = await tempDir('code4py-docker-socket-');
      const socketPath = join(folder, 'proxy.sock');
      const received: string[] = [];
      const server: Server = createServer((socket) => {
        socket.on('data', (chunk: Buffer) => received.push(chunk.toString('utf8')));
        socket.end('welcome');
      });
      await new Promise<void>((resolve) => server.listen(socketPath, resolve));
      onCleanup(() => new Promise<void>((resolve) => server.close(() => resolve())));
      // The run's user is not the bot's: it needs to search the folder and write to the socket.
      await chmod(folder, 0o711);
      await chmod(socketPath, 0o777);
      const greeting = `hello-${randomUUID()}`;
      const result = await sandbox.run({
        command: ['python', '-c', `${HOSTILE.connect(hostAddresses(), listener.port())}
import socket
unix = socket.socket(socket.AF_UNIX)
unix.connect("/proxy/proxy.sock")
unix.sendall(${JSON.stringify(greeting)}.encode())
print("answer", unix.recv(100).decode())
`],
        workDir: work,
        mounts: [{ host: folder, sandbox: '/proxy', writable: false }],
      });
      expect(result.exitCode).toBe(0);
      expect(received.join('')).toBe(greeting);
      expect(result.stdout).toContain('answer welcome');
      expect(listener.connections()).toBe(0);
    });
  });

  live('holds no secret of the caller in any environment or command line it can read', async () => {
    const secret = `sk-test-${randomUUID()}`;
    process.env.OPENAI_API_KEY = secret;
    process.env.CODE4PY_HOSTILE_SECRET = secret;
    try {
      const { result } = await runPython(HOSTILE.lootEnvironment('/out/loot.txt'));
      expect(result.exitCode).toBe(0);
      const loot = await readFile(join(out, 'loot.txt'), 'utf8');
      expect(loot).toContain('PATH=');
      expect(loot).not.toContain(secret);
      expect(result.stdout + result.stderr).not.toContain(secret);
    } finally {
      delete process.env.OPENAI_API_KEY;
      delete process.env.CODE4PY_HOSTILE_SECRET;
    }
  });

  live('reads none of the host\'s files and writes none outside its output folder; the host\'s work folder stays as it was', async () => {
    const hostDir = await tempDir('code4py-host-');
    const secret = `host-secret-${randomUUID()}`;
    await writeFile(join(hostDir, 'secret.txt'), secret, { mode: 0o600 });
    await writeFile(join(work, 'given.py'), 'X = 1\n');
    // A link in the work folder travels as a link: inside it points at nothing of the host.
    await symlink(join(hostDir, 'secret.txt'), join(work, 'link.txt'));
    const targets = [join(hostDir, 'secret.txt'), '/work/link.txt', process.cwd(), join(process.cwd(), 'package.json'), '/root', '/home'];
    const escapes = escapeTargets(hostDir);
    const { result } = await runPython(`
${HOSTILE.readTargets(targets, '/out/loot.json')}
${HOSTILE.writeTargets(escapes.inside)}
open("/work/given.py", "w").write("changed")
open("/work/made-inside.txt", "w").write("hello")
`);
    expect(result.exitCode).toBe(0);
    const loot = await readFile(join(out, 'loot.json'), 'utf8');
    expect(loot).not.toContain(secret);
    expect(loot).not.toContain('"name": "code4py"');
    for (const path of escapes.onHost) expect(existsSync(path)).toBe(false);
    expect((await readdir(work)).sort()).toEqual(['given.py', 'link.txt']);
    expect(await readFile(join(work, 'given.py'), 'utf8')).toBe('X = 1\n');
  });

  live('kills an endless loop at the wall-clock limit and leaves no process or container behind', async () => {
    const started = performance.now();
    const { result, marker } = await runPython('while True: pass', { wallTimeMs: 3000 });
    expect(performance.now() - started).toBeLessThan(15_000);
    expect(result.timedOut).toBe(true);
    await nothingLeft(marker);
  });

  live('stops a CPU hog at its CPU-seconds limit', async () => {
    const { result, marker } = await runPython('while True: pass', { cpuSeconds: 1, wallTimeMs: 30_000 });
    expect(result.timedOut).toBe(false);
    // Killed by the kernel at the hard CPU limit (SIGKILL: 128 + 9), not by the wall clock or the engine.
    expect(result.exitCode).toBe(137);
    expect(result.outOfMemory).toBe(false);
    await nothingLeft(marker);
  });

  live('kills a daemonised grandchild when the run returns', async () => {
    const { result, marker } = await runPython(HOSTILE.daemon('/out'), { wallTimeMs: 20_000 });
    expect(result.timedOut).toBe(false);
    await nothingLeft(marker);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(existsSync(join(out, 'daemon-was-alive.txt'))).toBe(false);
  });

  live('keeps the first MiB of gigabytes of output without the host holding them', async () => {
    const rssBefore = process.memoryUsage().rss;
    const { result, marker } = await runPython(HOSTILE.outputFlood, { wallTimeMs: 120_000, outputBytes: 1 << 20 });
    expect(result.stdout.length).toBeLessThan((1 << 20) + 200);
    expect(result.stdout).toContain('output truncated by the sandbox');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    await nothingLeft(marker);
  }, 150_000);

  live('stops a file at the file-size limit and a process at its open-files limit', async () => {
    await runPython(HOSTILE.bigFile('/out'), { fileSizeBytes: 8 * 1024 * 1024 });
    expect((await stat(join(out, 'big.bin'))).size).toBe(8 * 1024 * 1024);
    await runPython(HOSTILE.openFiles('/tmp', '/out/count.txt'), { openFiles: 64 });
    const opened = Number(await readFile(join(out, 'count.txt'), 'utf8'));
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThan(64);
  });

  live('bounds the memory of a memory bomb and reports it', async () => {
    const limit = 256 * 1024 * 1024;
    const marker = `code4py-hostile-${randomUUID()}`;
    const { result, peak } = await peakWhile(
      sandbox.run({ command: ['python', '-c', HOSTILE.memoryBomb, marker], workDir: work, limits: { memoryBytes: limit, wallTimeMs: 30_000 } }),
      () => containerAnonymousBytes(marker),
      10,
    );
    expect(result.timedOut).toBe(false);
    expect(result.outOfMemory).toBe(true);
    // Above 16 MiB: the host saw the bomb grow, so the bound below is not read off an empty process table.
    expect(peak).toBeGreaterThan(16 * 1024 * 1024);
    expect(peak).toBeLessThanOrEqual(limit);
    await nothingLeft(marker);
  });

  live('holds a fork bomb to its process limit and leaves no process behind', async () => {
    const marker = `code4py-hostile-${randomUUID()}`;
    const { peak } = await peakWhile(
      sandbox.run({ command: ['python', '-c', HOSTILE.forkBomb, marker], workDir: work, limits: { processes: 32, wallTimeMs: 3000 } }),
      async () => (await containerProcessesWith(marker)).length,
      10,
    );
    // Above 1: the host saw the bomb's processes, so the bound below is not read off an empty process table.
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(32);
    await nothingLeft(marker);
  });

  live('leaves no process or container behind when its caller aborts', async () => {
    const abort = new AbortController();
    const marker = `code4py-hostile-${randomUUID()}`;
    const run = sandbox.run({ command: ['python', '-c', HOSTILE.forkAndSleep, marker], workDir: work, signal: abort.signal });
    await new Promise((resolve) => setTimeout(resolve, 3000));
    // The run's processes were there on the host, so finding none afterwards means the abort ended them.
    expect((await containerProcessesWith(marker)).length).toBeGreaterThan(1);
    abort.abort();
    const result = await run;
    expect(result.aborted).toBe(true);
    await nothingLeft(marker);
  });

  live('gives the host a channel that code run after it was closed cannot write to', async () => {
    // The "driver" writes and closes fd 4, then acts as hostile code: every fd of every process it can see.
    const code = `
import os
os.write(4, b"from the driver")
os.close(4)
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for fd in range(16):
            try:
                with open(f"/proc/{pid}/fd/{fd}", "wb", buffering=0) as handle:
                    handle.write(b" forged")
            except OSError:
                pass
print("to stdout")
`;
    const result = await sandbox.run({ command: ['python', '-c', code], workDir: work, channel: true });
    expect(result.exitCode).toBe(0);
    expect(result.channel).toBe('from the driver');
    expect(result.stderr).toContain('to stdout');
  });

  live('runs the validation driver: the analysis on the channel, the results in the output folder', async () => {
    await writeFile(join(work, 'calc.py'), 'def add(a, b):\n    return a + b\n');
    await writeFile(join(work, 'test_calc.py'), 'from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n');
    const run = await runTests(sandbox, work, [], 60);
    expect(run.tests.status).toBe('passed');
    expect(run.counts).toMatchObject({ passed: 1, failed: 0, timedOut: false });
    expect(run.analysis.ran).toBe(true);
    expect(run.coverageJson).toContain('calc.py');
  });

  live('makes a virtual environment whose pip comes from the image\'s own wheels, with no network', async () => {
    const { result } = await runPython(`
import subprocess, sys
subprocess.run([sys.executable, "-m", "venv", "/tmp/venv"], check=True)
done = subprocess.run(["/tmp/venv/bin/python", "-m", "pip", "--version"], check=True, capture_output=True, text=True)
open("/out/pip.txt", "w").write(done.stdout)
`, { wallTimeMs: 120_000 });
    expect(result.stderr).toBe('');
    expect(result.exitCode).toBe(0);
    expect(await readFile(join(out, 'pip.txt'), 'utf8')).toMatch(/^pip \d+\.\d+(\.\d+)? from \/tmp\/venv\//);
  }, 150_000);

  describe('choosing it', () => {
    let bin: string;
    beforeAll(async () => {
      // A search path holding the engine's client and no bubblewrap.
      bin = await mkdtemp(join(tmpdir(), 'code4py-docker-bin-'));
      if (engine.client) await symlink(engine.client.path, join(bin, engine.client.name));
    });
    afterAll(() => rm(bin, { recursive: true, force: true }));

    live('with auto and no bubblewrap, takes the engine and reads its Python', async () => {
      const ready = await getSandbox('auto', DEFAULT_PYTHON, { searchPath: bin });
      expect(ready.sandbox.backend).toBe('docker');
      expect(ready.python.version).toMatch(/^3\.\d+\.\d+$/);
      expect(ready.python.pytest).not.toBeNull();
      expect(ready.python.coverage).not.toBeNull();
    });

    live('without the image, refuses and says how to build it', async () => {
      await expect(getSandbox('docker', DEFAULT_PYTHON, { searchPath: bin, dockerImage: `code4py-missing-${randomUUID()}` })).rejects.toThrow(/has no image code4py-missing-.*sandbox\/build-image\.sh/);
    });
  });
});
