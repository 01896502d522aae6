import { execFile, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, chmod, chown, lstat, mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pack } from 'tar';
import { z } from 'zod';
import { SandboxUnavailableError, UsageError } from '../errors.js';
import { settlesWithin, watchRun } from './bwrap.js';
import { CappedCapture } from './capture.js';
import {
  assertAllowedEnv,
  CHANNEL_FD,
  DEFAULT_LIMITS,
  resolveCommand,
  SANDBOX_BASE_ENV,
  type Mount,
  type RunLimits,
  type RunRequest,
  type RunResult,
  type Sandbox,
} from './types.js';
import { ulimitCommands } from './ulimit.js';

export const DEFAULT_DOCKER_IMAGE = 'code4py-sandbox';

/** The unprivileged user of sandbox/Dockerfile; runs use it when the bot itself is root. */
export const SANDBOX_UID = 10001;

/** Label on every sandbox container, so an operator can find any a crashed bot left behind. */
export const SANDBOX_LABEL = 'code4py.sandbox';

/** Exit status of the launcher when the work folder could not be unpacked (nothing of the run had started). */
const COPY_FAILED = 123;
/** Exit status of the launcher when a limit could not be set (the engine's hard limit is lower). */
const LIMITS_FAILED = 124;
/**
 * `docker run`'s own statuses when the engine could not create or start the container: 125 from docker
 * and podman, 126 or 127 from podman when the runtime fails (these are also the run's own statuses for a
 * command that cannot be run, so the container's state tells which it was).
 */
const ENGINE_FAILED: ReadonlySet<number> = new Set([125, 126, 127]);
const CLIENT_GRACE_MS = 5000;

/**
 * A docker image reference (`[host[:port]/]name[:tag][@sha256:…]`). It must start with a letter or digit,
 * so it can never be read by `docker run` as one of its options.
 */
const IMAGE_REFERENCE =
  /^(?:[a-zA-Z0-9][a-zA-Z0-9.-]*(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*(?::\w[\w.-]{0,127})?(?:@sha256:[0-9a-f]{64})?$/;

/** The docker backend's variable; the bot's whole environment (src/env.ts) includes it. */
export const DockerEnvSchema = z.object({
  /** The image the docker backend runs (built from sandbox/Dockerfile). */
  CODE4PY_DOCKER_IMAGE: z
    .string()
    .regex(IMAGE_REFERENCE, 'must be a docker image reference such as code4py-sandbox or registry.example.com/code4py-sandbox:1')
    .default(DEFAULT_DOCKER_IMAGE),
});

export function readDockerImage(env: NodeJS.ProcessEnv): string {
  const parsed = DockerEnvSchema.safeParse({ CODE4PY_DOCKER_IMAGE: env.CODE4PY_DOCKER_IMAGE || undefined });
  if (!parsed.success) throw new UsageError(`CODE4PY_DOCKER_IMAGE: ${parsed.error.issues[0]?.message}`);
  return parsed.data.CODE4PY_DOCKER_IMAGE;
}

/**
 * The client's own environment: only what docker or podman needs to find and reach its engine. The rest of
 * the bot's environment (tokens, keys) never reaches the client, let alone the container.
 */
const DockerClientEnvSchema = z.object({
  PATH: z.string().optional(),
  HOME: z.string().optional(),
  DOCKER_HOST: z.string().optional(),
  DOCKER_CONTEXT: z.string().optional(),
  DOCKER_CONFIG: z.string().optional(),
  DOCKER_CERT_PATH: z.string().optional(),
  DOCKER_TLS_VERIFY: z.string().optional(),
  XDG_RUNTIME_DIR: z.string().optional(),
  // podman's: its configuration files, a remote engine, and where a rootless engine keeps its state.
  CONTAINERS_CONF: z.string().optional(),
  CONTAINERS_STORAGE_CONF: z.string().optional(),
  CONTAINER_HOST: z.string().optional(),
  CONTAINER_CONNECTION: z.string().optional(),
  XDG_CONFIG_HOME: z.string().optional(),
  XDG_DATA_HOME: z.string().optional(),
});

export function dockerClientEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const picked = DockerClientEnvSchema.parse(env);
  return Object.fromEntries(Object.entries(picked).filter((entry): entry is [string, string] => entry[1] !== undefined));
}

export interface DockerAnswer {
  /** Exit status; null when the client could not be started or was killed. */
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** One short docker command (version, inspect, kill, rm), bounded in time. */
export function runDocker(dockerPath: string, args: readonly string[], env: Record<string, string>, timeoutMs = 30_000): Promise<DockerAnswer> {
  return new Promise((resolve) => {
    execFile(dockerPath, [...args], { env, timeout: timeoutMs, killSignal: 'SIGKILL', maxBuffer: 1 << 20, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr: stderr || (error && code === null ? error.message : '') });
    });
  });
}

export interface DockerOptions {
  readonly dockerPath: string;
  readonly image: string;
  /** Python's path inside the image. */
  readonly python: string;
  /** CPUs the run may use at once (`--cpus`). */
  readonly cpus?: number;
  /** The uid:gid the run has inside; by default the bot's own, or SANDBOX_UID when the bot is root. */
  readonly user?: { readonly uid: number; readonly gid: number };
  /** The docker client's environment; by default picked from the bot's (see dockerClientEnv). */
  readonly clientEnv?: Record<string, string>;
  /** How long a client may take to leave once its container was killed, before it is killed too. */
  readonly clientGraceMs?: number;
}

export interface DockerRunSpec {
  readonly name: string;
  readonly image: string;
  readonly python: string;
  readonly user: { readonly uid: number; readonly gid: number };
  readonly cpus: number;
  readonly limits: RunLimits;
  readonly command: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly mounts?: readonly Mount[];
  readonly channel: boolean;
}

/**
 * `docker run`'s arguments for one run. The work folder is not mounted: its files arrive as a tar stream on
 * stdin and are unpacked into a tmpfs at /work by the launcher, as the run's user, before the command
 * starts; nothing the run writes there reaches the host.
 */
export function buildRunArgs(spec: DockerRunSpec): string[] {
  assertAllowedEnv(spec.env);
  const { limits } = spec;
  // tmpfs pages count against the memory limit, so the limit bounds the two folders together.
  const tmpfs = (path: string): string => `${path}:rw,exec,nosuid,nodev,size=${limits.memoryBytes},mode=1777`;
  return [
    'run',
    '--interactive',
    '--name', spec.name,
    '--label', `${SANDBOX_LABEL}=1`,
    '--pull', 'never',
    '--log-driver', 'none',
    '--network', 'none',
    '--ipc', 'private',
    '--hostname', 'sandbox',
    '--read-only',
    '--cap-drop', 'ALL',
    '--security-opt', 'no-new-privileges',
    '--user', `${spec.user.uid}:${spec.user.gid}`,
    '--pids-limit', String(limits.processes),
    '--memory', String(limits.memoryBytes),
    '--memory-swap', String(limits.memoryBytes),
    '--cpus', String(spec.cpus),
    '--tmpfs', tmpfs('/tmp'),
    '--tmpfs', tmpfs('/work'),
    '--workdir', '/work',
    ...(spec.mounts ?? []).flatMap((mount) => ['--mount', bindMount(mount)]),
    ...Object.entries({ ...SANDBOX_BASE_ENV, ...spec.env }).flatMap(([name, value]) => ['--env', `${name}=${value}`]),
    '--entrypoint', '/bin/sh',
    spec.image,
    '-c', launcher(limits, spec.channel),
    'code4py-sandbox',
    ...resolveCommand(spec.command, spec.python),
  ];
}

/**
 * Unpacks the work folder, sets the per-process limits, then becomes the command (so the command is the
 * container's only process). With a channel, the command's fd 4 is the container's stdout and its own
 * stdout and stderr both go to the container's stderr: once the command closes fd 4, nothing inside holds
 * the container's stdout.
 */
function launcher(limits: RunLimits, channel: boolean): string {
  const streams = channel ? ` ${CHANNEL_FD}>&1 1>&2` : '';
  return `tar -x -o -f - -C /work || exit ${COPY_FAILED}; ${rlimits(limits)} || exit ${LIMITS_FAILED}; exec "$@"${streams} </dev/null`;
}

/**
 * The rlimits, lowered by the launcher rather than asked of the engine with `--ulimit`: lowering needs no
 * privilege, and any `--ulimit` makes podman drop the engine's own defaults for the others (open files,
 * processes), putting in values above the host's hard limits that the runtime then cannot set. Processes
 * are bounded by the pids cgroup (`--pids-limit`), not RLIMIT_NPROC, which counts the uid host-wide.
 */
function rlimits(limits: RunLimits): string {
  return ulimitCommands(limits).join(' && ');
}

/** Lets users other than the owner read and enter a folder (o+rx); files and anything else are left alone. */
async function openToOthers(path: string): Promise<void> {
  const info = await lstat(path).catch(() => null);
  if (info?.isDirectory() && (info.mode & 0o005) !== 0o005) await chmod(path, (info.mode & 0o7777) | 0o005);
}

function bindMount(mount: Mount): string {
  for (const path of [mount.host, mount.sandbox]) {
    if (!path.startsWith('/') || /[,"'\n=]/.test(path)) throw new Error(`cannot mount ${JSON.stringify(path)} into the sandbox: paths must be absolute, without commas, quotes or "="`);
  }
  if (['/', '/work', '/tmp'].includes(mount.sandbox)) throw new Error(`cannot mount over ${mount.sandbox} in the sandbox`);
  return `type=bind,source=${mount.host},target=${mount.sandbox}${mount.writable ? '' : ',readonly'}`;
}

const ContainerStateSchema = z.object({ OOMKilled: z.boolean(), StartedAt: z.string() });

/**
 * The docker backend, for hosts where bubblewrap cannot run: each run is a fresh container with no
 * network, a read-only root, no capabilities, no privilege gain, cgroup pids/memory/CPU limits, rlimits,
 * and tmpfs /tmp and /work. The work folder is copied in, not mounted; only the caller's extra mounts
 * (e.g. an output folder) are bound, so those need the engine to run on this machine.
 */
export class DockerSandbox implements Sandbox {
  readonly backend = 'docker' as const;
  readonly limiter = 'cgroup' as const;
  readonly runAs?: { readonly uid: number; readonly gid: number };
  private readonly user: { readonly uid: number; readonly gid: number };
  private readonly clientEnv: Record<string, string>;

  constructor(private readonly options: DockerOptions) {
    this.user = options.user ?? defaultUser();
    this.clientEnv = options.clientEnv ?? dockerClientEnv(process.env);
    // As root the engine runs the container's user as that very uid on the host; files are handed over to it.
    if (runsAsOther(this.user)) this.runAs = this.user;
  }

  get python(): string {
    return this.options.python;
  }

  /** Runs a short docker command with the client's restricted environment. */
  docker(args: readonly string[], timeoutMs?: number): Promise<DockerAnswer> {
    return runDocker(this.options.dockerPath, args, this.clientEnv, timeoutMs);
  }

  async run(request: RunRequest): Promise<RunResult> {
    const limits: RunLimits = { ...DEFAULT_LIMITS, ...request.limits };
    const name = `code4py-sandbox-${randomUUID()}`;
    const args = buildRunArgs({
      name,
      image: this.options.image,
      python: this.options.python,
      user: this.user,
      cpus: this.options.cpus ?? 1,
      limits,
      command: request.command,
      env: request.env,
      mounts: request.mounts,
      channel: request.channel === true,
    });
    // A bound output folder must be writable by the run's user; the bot, as root, hands it over. A read-only
    // folder (made private, as temporary folders are) must at least be readable by that user, who is no owner.
    if (this.runAs) {
      for (const mount of request.mounts ?? []) {
        if (mount.writable) await chown(mount.host, this.runAs.uid, this.runAs.gid);
        else await openToOthers(mount.host);
      }
    }
    const entries = await readdir(request.workDir);
    const clientDir = await mkdtemp(join(tmpdir(), 'code4py-docker-client-'));
    try {
      return await this.spawnRun(request, limits, name, args, entries, clientDir);
    } finally {
      await rm(clientDir, { recursive: true, force: true });
    }
  }

  /**
   * Runs the client in `clientDir`, a fresh folder of its own: podman's conmon (before 2.1.13) records a
   * memory kill as a file `oom` in its working directory, and podman before 5.0 never reports it as
   * OOMKilled; the file is how such a kill is seen (and it lands nowhere else on the host).
   */
  private async spawnRun(request: RunRequest, limits: RunLimits, name: string, args: string[], entries: string[], clientDir: string): Promise<RunResult> {
    const started = performance.now();
    const child = spawn(this.options.dockerPath, args, { env: this.clientEnv, cwd: clientDir, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const [stdin, out, err] = child.stdio as unknown as [Writable, Readable, Readable];
    const stdout = new CappedCapture(out, limits.outputBytes);
    const stderr = new CappedCapture(err, limits.outputBytes);
    sendWorkFolder(request.workDir, entries, stdin);

    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    const streamsClosed = new Promise<void>((resolve) => child.once('close', () => resolve()));
    let clientKilled = false;
    const killClient = (): void => {
      try {
        if (child.pid && child.exitCode === null && child.signalCode === null) {
          process.kill(-child.pid, 'SIGKILL');
          clientKilled = true;
        }
      } catch {
        // Already gone.
      }
    };
    // Killing the client would leave the container running: the engine kills the container, and the
    // client leaves once it has stopped. When that fails (no container yet, a stuck client), the client
    // is killed, so it cannot start the container later, and the removal below finds what is left.
    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> =>
      (stopping ??= (async () => {
        const killed = await this.docker(['kill', '--signal', 'KILL', name], 10_000);
        if (killed.code !== 0 || !(await settlesWithin(exited, this.options.clientGraceMs ?? CLIENT_GRACE_MS))) killClient();
      })());

    const watch = watchRun(limits.wallTimeMs, request.signal, () => void stop());

    try {
      const { code, signal } = await Promise.race([exited, spawnError]);
      if (stopping) await stopping;
      await settlesWithin(streamsClosed, 2000);
      const killed = watch.timedOut || watch.aborted;
      // A run that exited 0 did start; not asking the engine whether it also lost a process to the memory
      // limit saves a client call on the common path.
      const state = killed || code === 0 ? null : await this.inspect(name);
      if (!killed && code !== null && ENGINE_FAILED.has(code) && !state?.started) {
        throw new SandboxUnavailableError(`docker could not run the sandbox container: ${lastLine(stderr.text()) || 'no reason given'}`);
      }
      if (!killed && code === COPY_FAILED) throw new Error(`the sandbox could not unpack the work folder: ${lastLine(stderr.text()) || 'no reason given'}`);
      const channel = request.channel === true;
      return {
        exitCode: killed ? null : code,
        signal: killed ? 'SIGKILL' : signal,
        stdout: channel ? '' : stdout.text(),
        stderr: stderr.text(),
        stdoutTruncated: channel ? false : stdout.truncated,
        stderrTruncated: stderr.truncated,
        channel: channel ? stdout.text() : '',
        timedOut: watch.timedOut,
        outOfMemory: state?.outOfMemory === true || (await exists(join(clientDir, 'oom'))),
        aborted: watch.aborted,
        durationMs: performance.now() - started,
      };
    } finally {
      watch.stop();
      killClient();
      stdin.destroy();
      out.destroy();
      err.destroy();
      // A client that never started made no container.
      if (child.pid !== undefined) await this.remove(name, clientKilled);
    }
  }

  private async inspect(name: string): Promise<{ started: boolean; outOfMemory: boolean } | null> {
    const answer = await this.docker(['inspect', '--type', 'container', '--format', '{{json .State}}', name]);
    if (answer.code !== 0) return null;
    try {
      const state = ContainerStateSchema.parse(JSON.parse(answer.stdout));
      return { started: !state.StartedAt.startsWith('0001-01-01'), outOfMemory: state.OOMKilled };
    } catch {
      return null;
    }
  }

  /**
   * Removes the run's container. When the client was killed, the engine may still have been creating or
   * starting the container, so the removal is repeated until the engine lists no container of that name.
   */
  private async remove(name: string, verify: boolean): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      const removed = await this.docker(['rm', '--force', '--volumes', name]);
      if (removed.code !== 0 && !/no such container/i.test(removed.stderr)) {
        throw new Error(`the sandbox container ${name} could not be removed (${lastLine(removed.stderr) || `exit ${removed.code}`}): remove it with \`docker rm -f ${name}\``);
      }
      if (!verify) return;
      const left = await this.docker(['ps', '--all', '--quiet', '--filter', `name=^${name}$`]);
      if (left.code === 0 && left.stdout.trim() === '') return;
      if (attempt >= 20) throw new Error(`the sandbox container ${name} would not go away: remove it with \`docker rm -f ${name}\``);
      await sleep(100);
    }
  }
}

/** Streams the work folder's entries as a tar archive (links stored as links, never followed) into `stdin`. */
function sendWorkFolder(workDir: string, entries: readonly string[], stdin: Writable): void {
  // The container can exit (or be killed) before it has read everything; that is not an error here.
  stdin.on('error', () => {});
  const pack = new Pack({ cwd: workDir, portable: true });
  // A file that cannot be read ends the stream early; the launcher's tar then fails and the run says so.
  pack.on('error', () => stdin.destroy());
  pack.pipe(stdin);
  for (const entry of entries) pack.add(entry);
  pack.end();
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** Whether the bot is root and its runs are not: mounted folders are then handed to (or opened for) their user. */
function runsAsOther(user: { readonly uid: number }): boolean {
  return process.getuid?.() === 0 && user.uid !== 0;
}

function defaultUser(): { uid: number; gid: number } {
  const uid = process.getuid?.() ?? 0;
  return uid === 0 ? { uid: SANDBOX_UID, gid: SANDBOX_UID } : { uid, gid: process.getgid?.() ?? uid };
}

/** The last non-empty line of a client's message, the one that says what went wrong. */
export function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.trim() ?? '';
}
