import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { CappedCapture } from './capture.js';
import { killUntilGone } from './kill.js';
import type { CgroupFactory, RunCgroup } from './cgroup.js';
import { assertAllowedEnv, DEFAULT_LIMITS, resolveCommand, SANDBOX_BASE_ENV, type RunLimits, type RunRequest, type RunResult, type Sandbox } from './types.js';
import { ulimitCommands } from './ulimit.js';

/** Exit status of the launcher when the run could not join its cgroup. */
const JOIN_FAILED = 125;

/** Host paths that stand at the root of a Debian-like system; each is bound read-only or recreated as its symlink. */
const ROOT_SYSTEM_PATHS = ['/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];
/** The few files of /etc that Python and the C library read. */
const ETC_FILES = ['/etc/ld.so.cache', '/etc/localtime', '/etc/alternatives'];

export interface BwrapOptions {
  readonly bwrapPath: string;
  readonly python: string;
  readonly cgroups: CgroupFactory | null;
}

/**
 * The bubblewrap backend. Every run gets new user, pid, network, ipc, uts and cgroup namespaces (so no
 * network interface but loopback), an empty environment, read-only system folders, its own /tmp, /proc
 * and /dev, and the work folder; nothing else of the host exists inside.
 */
export class BwrapSandbox implements Sandbox {
  readonly backend = 'bwrap' as const;
  readonly limiter: 'cgroup' | 'rlimit';

  constructor(private readonly options: BwrapOptions) {
    this.limiter = options.cgroups ? 'cgroup' : 'rlimit';
  }

  get python(): string {
    return this.options.python;
  }

  async run(request: RunRequest): Promise<RunResult> {
    const limits: RunLimits = { ...DEFAULT_LIMITS, ...request.limits };
    assertAllowedEnv(request.env);
    const cgroup = this.options.cgroups ? await this.options.cgroups.create(`run-${randomUUID()}`, limits) : null;
    try {
      return await this.spawnRun(request, limits, cgroup);
    } finally {
      await cgroup?.destroy();
    }
  }

  private async spawnRun(request: RunRequest, limits: RunLimits, cgroup: RunCgroup | null): Promise<RunResult> {
    const started = performance.now();
    const bwrapArgs = await buildArgs(request, this.options.python);
    const joins = cgroup?.procsFiles ?? [];
    // The launcher sets the per-process limits (inherited by bubblewrap and everything it starts) and moves
    // itself into the run's cgroups before it becomes bubblewrap, so every process of the run is born
    // inside them. It execs bubblewrap with an empty environment: bubblewrap's own process stays visible
    // inside as /proc/1, and must hold nothing of ours.
    const launcher = `${rlimitScript(limits, cgroup === null)} && n=$1; shift; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit ${JOIN_FAILED}; shift; n=$((n-1)); done; exec /usr/bin/env -i "$@"`;
    const child = spawn('/bin/sh', ['-c', launcher, 'code4py-sandbox', String(joins.length), ...joins, this.options.bwrapPath, ...bwrapArgs], {
      env: {},
      cwd: '/',
      // fd 3 carries bubblewrap's --info-fd; fd 4 the run's channel, when asked for.
      stdio: ['ignore', 'pipe', 'pipe', 'pipe', request.channel ? 'pipe' : 'ignore'],
      detached: true,
    });
    const [, out, err, infoFd, channelFd] = child.stdio as unknown as [null, Readable, Readable, Readable, Readable | null];
    const stdout = new CappedCapture(out, limits.outputBytes);
    const stderr = new CappedCapture(err, limits.outputBytes);
    const channel = channelFd ? new CappedCapture(channelFd, limits.outputBytes) : null;
    const info = readInfo(infoFd);

    const killTree = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    };
    const watch = watchRun(limits.wallTimeMs, request.signal, killTree);

    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const streamsClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    try {
      const { code, signal } = await Promise.race([exit, spawnError]);
      // bubblewrap's init has died with it, so the kernel kills what is left in the pid namespace; the
      // streams close once the last writer is gone.
      const namespace = await info;
      await settlesWithin(streamsClosed, 2000);
      if (!cgroup && namespace !== null) await killUntilGone(() => processesIn(namespace));
      if (code === JOIN_FAILED && joins.length > 0) throw new Error('the sandbox could not join its cgroup');
      const outOfMemory = (await cgroup?.outOfMemory()) ?? false;
      return {
        exitCode: code,
        signal,
        stdout: stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: stdout.truncated,
        stderrTruncated: stderr.truncated,
        channel: channel?.text() ?? '',
        timedOut: watch.timedOut,
        outOfMemory,
        aborted: watch.aborted,
        durationMs: performance.now() - started,
      };
    } finally {
      watch.stop();
      killTree();
      out.destroy();
      err.destroy();
      infoFd.destroy();
      channelFd?.destroy();
    }
  }
}

/** Whether the wall-clock limit or the caller's abort ended a run; shared with the docker backend. */
export interface RunWatch {
  readonly timedOut: boolean;
  readonly aborted: boolean;
  /** Stops watching (the run is over): clears the timer and leaves the signal. */
  stop(): void;
}

/** Calls `kill` once `wallTimeMs` has passed or `signal` aborts (at once if it already has), noting which. */
export function watchRun(wallTimeMs: number, signal: AbortSignal | undefined, kill: () => void): RunWatch {
  let timedOut = false;
  let aborted = false;
  const timer = setTimeout(() => {
    timedOut = true;
    kill();
  }, wallTimeMs);
  const onAbort = (): void => {
    aborted = true;
    kill();
  };
  if (signal?.aborted) onAbort();
  signal?.addEventListener('abort', onAbort, { once: true });
  return {
    get timedOut() {
      return timedOut;
    },
    get aborted() {
      return aborted;
    },
    stop() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    },
  };
}

/** Whether `promise` settles within `ms`, leaving no timer behind; shared with the docker backend. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** bubblewrap writes its namespaces to --info-fd; the pid namespace's is kept to check that it empties. */
async function readInfo(stream: Readable): Promise<string | null> {
  let text = '';
  for await (const chunk of stream) text += String(chunk);
  const inode = /"pid-namespace":\s*(\d+)/.exec(text)?.[1];
  return inode ? `pid:[${inode}]` : null;
}

/** Live processes of a pid namespace; zombies are left out (they hold nothing, and the host's init reaps them). */
async function processesIn(namespace: string): Promise<number[]> {
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  const found: number[] = [];
  await Promise.all(
    pids.map(async (pid) => {
      if ((await readlink(`/proc/${pid}/ns/pid`).catch(() => null)) !== namespace) return;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state && state !== 'Z' && state !== 'X') found.push(Number(pid));
    }),
  );
  return found;
}

async function buildArgs(request: RunRequest, python: string): Promise<string[]> {
  const args = [
    '--unshare-user',
    '--unshare-pid',
    '--unshare-net',
    '--unshare-ipc',
    '--unshare-uts',
    '--unshare-cgroup-try',
    '--uid', '65534',
    '--gid', '65534',
    '--hostname', 'sandbox',
    '--die-with-parent',
    '--new-session',
    '--cap-drop', 'ALL',
    '--info-fd', '3',
    '--ro-bind', '/usr', '/usr',
  ];
  // /usr/local holds the operator's own tools (Node, the bot); Python's site folder there stays visible.
  if (!python.startsWith('/usr/local/')) {
    args.push('--tmpfs', '/usr/local', '--ro-bind-try', '/usr/local/lib/python3', '/usr/local/lib/python3');
  }
  for (const path of ROOT_SYSTEM_PATHS) {
    const stat = await lstat(path).catch(() => null);
    if (stat?.isSymbolicLink()) args.push('--symlink', await readlink(path), path);
    else if (stat?.isDirectory()) args.push('--ro-bind', path, path);
  }
  for (const path of ETC_FILES) args.push('--ro-bind-try', path, path);
  args.push('--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp', '--bind', request.workDir, '/work');
  for (const mount of request.mounts ?? []) {
    args.push(mount.writable ? '--bind' : '--ro-bind', mount.host, mount.sandbox);
  }
  args.push(
    '--chdir', '/work',
    '--clearenv',
  );
  for (const [name, value] of Object.entries({ ...SANDBOX_BASE_ENV, ...request.env })) args.push('--setenv', name, value);
  args.push('--', ...resolveCommand(request.command, python));
  return args;
}

/**
 * Per-process limits, hard and soft (dash's ulimit: -f counts 512-byte blocks, -v KiB). Without a cgroup
 * they are the only bound on processes and memory. With one, memory is the cgroup's alone: an address-space
 * limit counts reserved, unused space (every thread's stack, mmap'd files) and breaks threaded tests.
 */
function rlimitScript(limits: RunLimits, noCgroup: boolean): string {
  const lines = ulimitCommands(limits);
  if (noCgroup) lines.push(`ulimit -v ${Math.floor(limits.memoryBytes / 1024)}`, `ulimit -p ${limits.processes}`);
  return lines.join(' && ');
}
