import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { BwrapSandbox } from '../../src/sandbox/bwrap.js';
import { getSandbox } from '../../src/sandbox/select.js';
import type { RunLimits, RunResult, Sandbox } from '../../src/sandbox/types.js';
import { peakWhile, processesWith, residentBytesOf } from '../helpers/host.js';
import { escapeTargets, hostAddresses, HOSTILE, useHostListener } from '../helpers/hostile.js';

/**
 * Hostile code against the real sandbox. Every verdict is taken from what the host sees (the listener,
 * host files, the process table), never from what the sandboxed program or the run result says.
 */

let cgroupSandbox: Sandbox;
let rlimitSandbox: Sandbox;
let work: string;

beforeAll(async () => {
  cgroupSandbox = (await getSandbox('bwrap')).sandbox;
  rlimitSandbox = new BwrapSandbox({ bwrapPath: '/usr/bin/bwrap', python: cgroupSandbox.python, cgroups: null });
});

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'code4py-hostile-'));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Runs Python code with a unique marker in its command line, so its processes can be found on the host. */
async function runPython(sandbox: Sandbox, code: string, limits: Partial<RunLimits> = {}): Promise<{ result: RunResult; marker: string }> {
  const marker = `code4py-hostile-${randomUUID()}`;
  const result = await sandbox.run({ command: ['python', '-c', code, marker], workDir: work, limits });
  return { result, marker };
}

async function workFilesText(): Promise<string> {
  let text = '';
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile()) text += await readFile(path, 'utf8');
    }
  };
  await walk(work);
  return text;
}

describe('the sandbox against network access', () => {
  const listener = useHostListener();

  it('lets no connection reach a listener on the host, by loopback or by any host address', async () => {
    const { result } = await runPython(cgroupSandbox, HOSTILE.connect(hostAddresses(), listener.port()));
    expect(result.exitCode).toBe(0);
    expect(listener.connections()).toBe(0);
  });

  it('reaches nothing by name either: the name of the host and an outside one', async () => {
    const before = listener.connections();
    const { result } = await runPython(cgroupSandbox, `
import socket
for name in (${JSON.stringify(hostname())}, "example.com"):
    try:
        socket.create_connection((name, ${listener.port()}), timeout=2).close()
        print("reached", name)
    except OSError:
        pass
`);
    expect(result.exitCode).toBe(0);
    expect(listener.connections()).toBe(before);
  });
});

describe('the sandbox against reading the caller\'s secrets', () => {
  const secret = `sk-test-${randomUUID()}`;
  beforeAll(() => {
    process.env.OPENAI_API_KEY = secret;
    process.env.CODE4PY_HOSTILE_SECRET = secret;
  });
  afterAll(() => {
    delete process.env.OPENAI_API_KEY;
    delete process.env.CODE4PY_HOSTILE_SECRET;
  });

  it('holds no secret of the caller in any environment it can read, its own or its parents\'', async () => {
    const { result } = await runPython(cgroupSandbox, HOSTILE.lootEnvironment('/work/loot.txt'));
    expect(result.exitCode).toBe(0);
    const loot = await readFile(join(work, 'loot.txt'), 'utf8');
    expect(loot.length).toBeGreaterThan(0);
    expect(loot).not.toContain(secret);
    expect(result.stdout + result.stderr).not.toContain(secret);
  });

  it('refuses to pass a secret-looking variable into the sandbox', async () => {
    await expect(cgroupSandbox.run({ command: ['python', '-c', 'pass'], workDir: work, env: { OPENAI_API_KEY: secret } })).rejects.toThrow(/refusing to pass OPENAI_API_KEY/);
  });
});

describe('the sandbox against host files', () => {
  let hostDir: string;
  const secret = `host-secret-${randomUUID()}`;

  beforeAll(async () => {
    hostDir = await mkdtemp(join(tmpdir(), 'code4py-host-'));
    await writeFile(join(hostDir, 'secret.txt'), secret, { mode: 0o600 });
  });
  afterAll(() => rm(hostDir, { recursive: true, force: true }));

  it('cannot read files outside the work folder: /root, /home, the bot\'s checkout, other temporary files', async () => {
    const targets = [join(hostDir, 'secret.txt'), '/root', '/home', process.cwd(), join(process.cwd(), 'package.json'), '/etc/shadow', '/etc/passwd', '/proc/1/root/etc/hostname'];
    const { result } = await runPython(cgroupSandbox, HOSTILE.readTargets(targets, '/work/loot.json'));
    expect(result.exitCode).toBe(0);
    const loot = await workFilesText();
    expect(loot).not.toContain(secret);
    expect(loot).not.toContain('"name": "code4py"');
    const seen = JSON.parse(await readFile(join(work, 'loot.json'), 'utf8')) as Record<string, unknown>;
    for (const target of targets) expect(String(seen[target])).toMatch(/^denied: /);
  });

  it('cannot write outside the work folder: host temporary files and system folders stay untouched', async () => {
    const escapes = escapeTargets(hostDir);
    await runPython(cgroupSandbox, HOSTILE.writeTargets(escapes.inside));
    expect(escapes.onHost).toHaveLength(5);
    for (const path of escapes.onHost) expect(existsSync(path)).toBe(false);
  });

  it('can write in its work folder, and links it makes there lead only into the sandbox\'s own view', async () => {
    const code = `
import os
os.symlink("${hostDir}/secret.txt", "/work/link-to-secret")
os.symlink("/etc/hostname", "/work/link-to-hostname")
open("/work/made-inside.txt", "w").write("hello")
try:
    open("/work/link-to-secret").read()
    print("read through the link")
except OSError:
    pass
`;
    await runPython(cgroupSandbox, code);
    expect(await readFile(join(work, 'made-inside.txt'), 'utf8')).toBe('hello');
    // The links are there on the host too; what matters is that nothing of the host was read through them.
    const { readOutput } = await import('../../src/validate/stages/output.js');
    expect(await readOutput(join(work, 'link-to-secret'), 1024)).toBeNull();
  });
});

describe.each([
  ['cgroup', () => cgroupSandbox],
  ['rlimit', () => rlimitSandbox],
] as const)('the sandbox (%s limits) against runaway processes', (_limiter, sandboxOf) => {
  it('kills an endless loop at the wall-clock limit and leaves no process behind', async () => {
    const started = performance.now();
    const { result, marker } = await runPython(sandboxOf(), 'while True: pass', { wallTimeMs: 1000 });
    expect(result.timedOut).toBe(true);
    expect(performance.now() - started).toBeLessThan(5000);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('stops a CPU hog at its CPU-seconds limit', async () => {
    const started = performance.now();
    const { marker } = await runPython(sandboxOf(), 'while True: pass', { cpuSeconds: 1, wallTimeMs: 30_000 });
    expect(performance.now() - started).toBeLessThan(10_000);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('kills a daemonised grandchild when the run returns', async () => {
    const { result, marker } = await runPython(sandboxOf(), HOSTILE.daemon('/work'), { wallTimeMs: 20_000 });
    expect(result.durationMs).toBeLessThan(2500);
    expect(await processesWith(marker)).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 2000));
    expect(existsSync(join(work, 'daemon-was-alive.txt'))).toBe(false);
  });

  it('keeps the first MiB of gigabytes of output without the host holding them', async () => {
    const rssBefore = process.memoryUsage().rss;
    const { result, marker } = await runPython(sandboxOf(), HOSTILE.outputFlood, { wallTimeMs: 60_000, outputBytes: 1 << 20 });
    expect(result.stdout.length).toBeLessThan((1 << 20) + 200);
    expect(result.stdout).toContain('output truncated by the sandbox');
    expect(process.memoryUsage().rss - rssBefore).toBeLessThan(200 * 1024 * 1024);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('stops a file at the file-size limit', async () => {
    await runPython(sandboxOf(), HOSTILE.bigFile('/work'), { fileSizeBytes: 8 * 1024 * 1024 });
    expect((await stat(join(work, 'big.bin'))).size).toBeLessThanOrEqual(8 * 1024 * 1024);
  });

  it('stops a process at its open-files limit', async () => {
    await runPython(sandboxOf(), HOSTILE.openFiles('/work', '/work/count.txt'), { openFiles: 64 });
    const opened = Number(await readFile(join(work, 'count.txt'), 'utf8'));
    expect(opened).toBeGreaterThan(0);
    expect(opened).toBeLessThan(64);
  });

  it('bounds the memory of a memory bomb', async () => {
    const limit = 256 * 1024 * 1024;
    const marker = `code4py-hostile-${randomUUID()}`;
    const { result, peak } = await peakWhile(
      sandboxOf().run({ command: ['python', '-c', HOSTILE.memoryBomb, marker], workDir: work, limits: { memoryBytes: limit, wallTimeMs: 30_000 } }),
      () => residentBytesOf(marker),
      10,
    );
    expect(result.timedOut).toBe(false);
    expect(peak).toBeLessThanOrEqual(limit + 32 * 1024 * 1024);
    expect(await processesWith(marker)).toEqual([]);
  });

  it('leaves no process behind when its caller aborts', async () => {
    const abort = new AbortController();
    const marker = `code4py-hostile-${randomUUID()}`;
    const run = sandboxOf().run({
      command: ['python', '-c', HOSTILE.forkAndSleep, marker],
      workDir: work,
      signal: abort.signal,
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect((await processesWith(marker)).length).toBeGreaterThan(1);
    abort.abort();
    const result = await run;
    expect(result.aborted).toBe(true);
    expect(await processesWith(marker)).toEqual([]);
  });
});

describe('the sandbox (cgroup limits) against a fork bomb', () => {
  // Root ignores RLIMIT_NPROC, so only the cgroup pids controller can hold a fork bomb.
  it('holds a fork bomb to its process limit and leaves no process behind', async () => {
    const marker = `code4py-hostile-${randomUUID()}`;
    const { peak } = await peakWhile(
      cgroupSandbox.run({ command: ['python', '-c', HOSTILE.forkBomb, marker], workDir: work, limits: { processes: 32, wallTimeMs: 3000 } }),
      async () => (await processesWith(marker)).length,
      10,
    );
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(32);
    expect(await processesWith(marker)).toEqual([]);
  });
});
