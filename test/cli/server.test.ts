import { randomUUID } from 'node:crypto';
import { chmod, lstat, mkdir, mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/validate/report.js';
import { ensureBuilt, runBin, startBin, type RunningBin } from '../helpers/cli-bin.js';
import { processesWith } from '../helpers/host.js';
import { GOOD_PROJECT, makeProject } from '../helpers/project.js';

/** Folders kept for a whole describe block (a server's, its projects'), removed at the end of the file. */
const kept: string[] = [];
afterAll(async () => {
  await Promise.all(kept.map((dir) => rm(dir, { recursive: true, force: true })));
});

async function project(files: Record<string, string | Buffer>): Promise<string> {
  const p = await makeProject(files);
  kept.push(p.dir);
  return p.dir;
}

/** The one environment a server and its commands share: a private TMPDIR (to see what is left) and cache folder. */
async function environment(): Promise<NodeJS.ProcessEnv> {
  const root = await mkdtemp(join(tmpdir(), 'code4py-srv-'));
  kept.push(root);
  const tmp = join(root, 'tmp');
  await mkdir(tmp);
  return { ...process.env, TMPDIR: tmp, CODE4PY_CACHE_DIR: join(root, 'cache') };
}

async function startServer(env: NodeJS.ProcessEnv, ...args: string[]): Promise<RunningBin> {
  // --idle: a server a failed test leaves behind goes by itself.
  const server = startBin(['server', '--idle', '5', ...args], env);
  await server.waitFor('code4py server: serving');
  return server;
}

async function stopServer(server: RunningBin): Promise<void> {
  if (server.child.exitCode === null) server.child.kill('SIGTERM');
  await server.exited();
}

/** The report's own time is the one thing two runs of the same validation do not share. */
const untimed = (text: string): string => text.replace(/ in \d+(\.\d+)? (ms|s)\b/g, ' in …');

const HANG = (marker: string) => ({ 'test_hang.py': `import subprocess\nimport sys\n\n\ndef test_hang():\n    subprocess.run([sys.executable, "-c", "import time; time.sleep(60)", "${marker}"])\n` });

async function until(condition: () => Promise<boolean>, timeoutMs = 15_000): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (await condition()) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return condition();
}

beforeAll(() => {
  ensureBuilt();
});

describe('code4py server: serving code4py validate', () => {
  let env: NodeJS.ProcessEnv;
  let server: RunningBin;
  let alone: { stdout: string; stderr: string; code: number | null };
  let good: string;

  beforeAll(async () => {
    env = await environment();
    good = await project(GOOD_PROJECT);
    alone = await runBin(['validate', good], env); // before any server runs: the command on its own
    server = await startServer(env);
  }, 60_000);

  afterAll(async () => {
    await stopServer(server);
  });

  it('gives the same summary, progress and exit status as the command on its own, and does the work itself', async () => {
    const served = await runBin(['validate', good], env);
    expect(alone.code).toBe(0);
    expect(served.code).toBe(0);
    expect(untimed(served.stdout)).toBe(untimed(alone.stdout));
    // The same progress lines; the stages finish in their own order (a warm Ruff sooner).
    expect(served.stderr.split('\n').sort()).toEqual(alone.stderr.split('\n').sort());
    expect(server.output()).toContain(`code4py server: validate ${good}: exit 0 in `);
  });

  it('passes on a failing validation and the JSON report unchanged', async () => {
    const failing = await project({ ...GOOD_PROJECT, 'calc.py': 'def add(a, b):\n    return a * b\n\n\ndef sub(a, b):\n    return a - b\n' });
    const served = await runBin(['validate', '--json', failing], env);
    expect(served.code).toBe(1);
    const report = ReportSchema.parse(JSON.parse(served.stdout));
    expect(report.tests).toMatchObject({ passed: 1, failed: 1 });
    expect(server.output()).toContain(`code4py server: validate --json ${failing}: exit 1 in `);
  });

  it("resolves a relative DIR and --config from the command's folder, not the server's", async () => {
    const dir = await project(GOOD_PROJECT);
    await writeFile(join(dirname(dir), `${basename(dir)}.yml`), 'coverage_min: 99\n');
    const served = await runBin(['validate', basename(dir), '--config', `${basename(dir)}.yml`], env, undefined, dirname(dir));
    expect(served.code).toBe(0);
    expect(served.stderr).toContain(`code4py: settings from ${basename(dir)}.yml`);
    expect(served.stdout).toMatch(/✔ coverage\s+passed/);
    expect(server.output()).toContain(`code4py server: validate ${basename(dir)} --config ${basename(dir)}.yml: exit 0`);
  });

  it('leaves a command with another environment to run on its own, and says which variables differ', async () => {
    const before = server.output().length;
    const run = await runBin(['validate', good], { ...env, CODE4PY_EXTRA_SETTING: 'on' });
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('code4py: not using the server: it runs with another environment (CODE4PY_EXTRA_SETTING differs); start it in this shell to use it here');
    expect(untimed(run.stdout)).toBe(untimed(alone.stdout));
    expect(server.output().slice(before)).toContain('declined a command');
    expect(server.output().slice(before)).not.toContain(`validate ${good}: exit`);
  });

  it('declines a request from another build of code4py, and a line that is not a request', async () => {
    const socket = join(String(env.CODE4PY_CACHE_DIR), 'server', 'socket');
    const send = (line: string) =>
      new Promise<string>((resolve) => {
        const conn = createConnection(socket, () => conn.write(`${line}\n`));
        let answer = '';
        conn.on('data', (d) => (answer += d.toString()));
        conn.on('close', () => resolve(answer));
      });
    const request = { kind: 'run', build: 'an-older-build', argv: ['validate', good], cwd: '/', env, stdoutTTY: false, stderrTTY: false };
    expect(JSON.parse(await send(JSON.stringify(request)))).toEqual({
      kind: 'declined',
      reason: 'it runs another build of code4py (started before an upgrade or a rebuild); stop it with `code4py server --stop` and start it again',
    });
    expect(JSON.parse(await send('GET / HTTP/1.1'))).toEqual({ kind: 'declined', reason: 'that is not a code4py request (a client of another version?)' });
    expect((await runBin(['server', '--status'], env)).stdout).toMatch(/^a code4py server runs \(pid \d+, since .+\): \d+ validations served, 0 running/);
  });

  it('keeps its socket to this user: a 0700 folder and a 0600 socket, and no command uses a folder opened to others', async () => {
    const dir = join(String(env.CODE4PY_CACHE_DIR), 'server');
    expect((await stat(dir)).mode & 0o777).toBe(0o700);
    const socket = await lstat(join(dir, 'socket'));
    expect(socket.isSocket()).toBe(true);
    expect(socket.mode & 0o777).toBe(0o600);
    const before = server.output().length;
    await chmod(dir, 0o755);
    try {
      const run = await runBin(['validate', good], env);
      expect(run.code).toBe(0);
      expect(run.stderr).toContain(`code4py: not using the server: its folder ${dir} is not private to this user (mode 0700)`);
      expect(server.output().slice(before)).not.toContain('validate');
    } finally {
      await chmod(dir, 0o700);
    }
  });

  it('on Ctrl-C in the command stops the validation in the server, leaves nothing behind, exits 2 and keeps serving', async () => {
    const marker = `code4py-srv-${randomUUID()}`;
    const run = await runBin(['validate', await project(HANG(marker))], env, 3000);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('code4py: interrupted; nothing was left behind');
    expect(await processesWith(marker)).toEqual([]);
    expect(await readdir(String(env.TMPDIR))).toEqual([]);
    expect(server.output()).toMatch(/validate \S+: exit 2 in \d+ ms \(interrupted\)/);
    expect((await runBin(['validate', good], env)).code).toBe(0);
  });

  it('stops the validation of a command killed outright', async () => {
    const marker = `code4py-srv-${randomUUID()}`;
    const dir = await project(HANG(marker));
    const client = startBin(['validate', dir], env);
    expect(await until(async () => (await processesWith(marker)).length > 0)).toBe(true);
    client.child.kill('SIGKILL');
    expect(await until(async () => (await processesWith(marker)).length === 0)).toBe(true);
    expect(await until(async () => (await readdir(String(env.TMPDIR))).length === 0)).toBe(true);
    // The server ran it (the sandbox was its child, not the killed command's) and stopped it.
    expect(server.output()).toMatch(new RegExp(`validate ${dir}: exit 2 in \\d+ ms \\(interrupted\\)`));
  });
});

describe('code4py server: starting and stopping', () => {
  it('says when none runs', async () => {
    const env = await environment();
    const run = await runBin(['server', '--status'], env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe(`no code4py server runs for ${env.CODE4PY_CACHE_DIR}\n`);
  });

  it('refuses a second server, and stops with --stop, removing its socket', async () => {
    const env = await environment();
    const server = await startServer(env);
    try {
      const second = await runBin(['server'], env);
      expect(second.code).toBe(2);
      expect(second.stderr).toMatch(/^code4py: a code4py server already runs for .+ \(pid \d+\); stop it first with `code4py server --stop`\n$/);
      const stop = await runBin(['server', '--stop'], env);
      expect(stop.stdout).toBe('the code4py server is stopping\n');
      expect(await server.exited()).toBe(0);
      expect(server.output()).toContain('code4py server: stopping (asked to stop)');
      expect(await lstat(join(String(env.CODE4PY_CACHE_DIR), 'server', 'socket')).catch(() => null)).toBeNull();
    } finally {
      await stopServer(server);
    }
  }, 60_000);

  it('stopped under a running command, interrupts it, says why, and leaves nothing behind', async () => {
    const env = await environment();
    const server = await startServer(env);
    try {
      const marker = `code4py-srv-${randomUUID()}`;
      const client = startBin(['validate', await project(HANG(marker))], env);
      expect(await until(async () => (await processesWith(marker)).length > 0)).toBe(true);
      expect((await runBin(['server', '--stop'], env)).stdout).toBe('the code4py server is stopping (interrupting 1 running validation)\n');
      expect(await client.exited()).toBe(2);
      expect(client.output()).toContain('code4py: interrupted (the code4py server is stopping); nothing was left behind');
      expect(await server.exited()).toBe(0);
      expect(await processesWith(marker)).toEqual([]);
      expect(await readdir(String(env.TMPDIR))).toEqual([]);
    } finally {
      await stopServer(server);
    }
  }, 60_000);

  it('stops by itself after --idle minutes without a command', async () => {
    const env = await environment();
    const server = await startServer(env, '--idle', '0.02');
    try {
      expect(await server.exited()).toBe(0);
      expect(server.output()).toContain('code4py server: stopping (0.02 minutes without a command)');
      expect(await lstat(join(String(env.CODE4PY_CACHE_DIR), 'server', 'socket')).catch(() => null)).toBeNull();
    } finally {
      await stopServer(server);
    }
  }, 60_000);

  it('does not start where no sandbox works, and says what to do', async () => {
    const env: NodeJS.ProcessEnv = { ...(await environment()), CODE4PY_SANDBOX: 'bwrap', CODE4PY_PYTHON: '/usr/bin/python-not-here' };
    const run = await runBin(['server'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('There is no Python at /usr/bin/python-not-here');
    expect(await lstat(join(String(env.CODE4PY_CACHE_DIR), 'server', 'socket')).catch(() => null)).toBeNull();
  });

  it('rejects a bad --idle with what to give', async () => {
    const run = await runBin(['server', '--idle', '0'], await environment());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('give a number of minutes above 0 and up to 1440, e.g. --idle 30');
  });
});
