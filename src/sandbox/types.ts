/** What a sandboxed run may use. Every limit applies to the whole run, all its processes together where the host allows. */
export interface RunLimits {
  /** CPU seconds per process (RLIMIT_CPU). */
  readonly cpuSeconds: number;
  /** Memory for the whole run (cgroup memory controller); address space per process (RLIMIT_AS) only where no cgroup is writable. */
  readonly memoryBytes: number;
  /** Processes and threads for the whole run (cgroup pids controller, else RLIMIT_NPROC). */
  readonly processes: number;
  /** Largest file a process may write (RLIMIT_FSIZE). */
  readonly fileSizeBytes: number;
  /** Open files per process (RLIMIT_NOFILE). */
  readonly openFiles: number;
  /** Wall-clock time after which the whole process tree is killed. */
  readonly wallTimeMs: number;
  /** Bytes kept of each of stdout and stderr; the rest is read and dropped, and the cut is marked. */
  readonly outputBytes: number;
}

/** The fd inside the sandbox on which a run writes to its `channel`. */
export const CHANNEL_FD = 4;

export const DEFAULT_LIMITS: RunLimits = Object.freeze({
  cpuSeconds: 120,
  memoryBytes: 1024 * 1024 * 1024,
  processes: 128,
  fileSizeBytes: 64 * 1024 * 1024,
  openFiles: 256,
  wallTimeMs: 60_000,
  outputBytes: 1024 * 1024,
});

/** A host folder made visible inside the sandbox. */
export interface Mount {
  readonly host: string;
  readonly sandbox: string;
  readonly writable: boolean;
}

export interface RunRequest {
  /** argv inside the sandbox; `python` may be written as the first element to run the sandbox's Python. */
  readonly command: readonly string[];
  /**
   * A fresh host folder, seen writable at `/work` and used as the working directory: bubblewrap mounts it;
   * docker copies it into a tmpfs, so what the run writes there stays inside.
   */
  readonly workDir: string;
  /** Further folders (e.g. read-only helper scripts, a writable output folder): what the run writes here reaches the host. */
  readonly mounts?: readonly Mount[];
  /** Extra environment; only names from SANDBOX_ENV_ALLOWED may be given (never a secret). */
  readonly env?: Readonly<Record<string, string>>;
  readonly limits?: Partial<RunLimits>;
  /**
   * Open a pipe to the host on the run's fd 4 (see `RunResult.channel`). A run that writes its own findings
   * there and closes it before it loads any untrusted code gives the host output that code cannot forge.
   * On docker, fd 4 is the container's stdout, and the run's own stdout comes back in `stderr`.
   */
  readonly channel?: boolean;
  /** Aborting kills the run at once. */
  readonly signal?: AbortSignal;
}

export interface RunResult {
  /** Exit status, or null when the run was killed by a signal. */
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly stdoutTruncated: boolean;
  readonly stderrTruncated: boolean;
  /** What the run wrote to fd 4 when `channel` was asked for (capped like stdout); '' otherwise. */
  readonly channel: string;
  /** Killed because the wall-clock limit passed. */
  readonly timedOut: boolean;
  /** The memory controller killed a process of the run. */
  readonly outOfMemory: boolean;
  /** Killed because the caller aborted. */
  readonly aborted: boolean;
  readonly durationMs: number;
}

export interface Sandbox {
  readonly backend: 'bwrap' | 'docker';
  /** Path of the Python interpreter inside the sandbox. */
  readonly python: string;
  /** How processes and memory are bounded on this host: 'cgroup' or 'rlimit'. */
  readonly limiter: 'cgroup' | 'rlimit';
  /**
   * The host uid and gid the run's processes have, when they are not this process's own (docker, when the
   * bot is root, runs them as SANDBOX_UID): a file handed in that only its owner may read must be theirs.
   */
  readonly runAs?: { readonly uid: number; readonly gid: number };
  run(request: RunRequest): Promise<RunResult>;
}

/** Environment names a caller may pass into the sandbox. Anything else is refused, so no secret can slip in. */
export const SANDBOX_ENV_ALLOWED = /^(PYTHON[A-Z_]*|PYTEST_[A-Z_]+|COVERAGE_[A-Z_]+|CODE4PY_SANDBOX_[A-Z_]+|TZ|LC_ALL|LANG|NO_COLOR|COLUMNS)$/;

/** Throws unless every name of `env` is one of SANDBOX_ENV_ALLOWED; every backend checks before it starts anything. */
export function assertAllowedEnv(env: Readonly<Record<string, string>> | undefined): void {
  for (const name of Object.keys(env ?? {})) {
    if (!SANDBOX_ENV_ALLOWED.test(name)) throw new Error(`refusing to pass ${name} into the sandbox: only tool settings may go in`);
  }
}

/** The environment every run starts with, before the request's own tool settings. */
export const SANDBOX_BASE_ENV: Readonly<Record<string, string>> = Object.freeze({
  PATH: '/usr/bin:/bin',
  HOME: '/tmp',
  LANG: 'C.UTF-8',
  LOGNAME: 'sandbox',
  PYTHONDONTWRITEBYTECODE: '1',
});

/** The request's argv with a leading `python` replaced by the sandbox's interpreter. */
export function resolveCommand(command: readonly string[], python: string): string[] {
  if (command.length === 0) throw new Error('the sandbox was given an empty command');
  return command[0] === 'python' ? [python, ...command.slice(1)] : [...command];
}
