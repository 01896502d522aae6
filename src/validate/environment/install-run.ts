import { existsSync } from 'node:fs';
import { chown, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import type { Mount, RunResult, Sandbox } from '../../sandbox/types.js';
import { pythonScript } from '../python-scripts.js';
import type { EnvironmentSettings, PackageIndex } from './env.js';
import { startAllowListProxy, type AllowListProxy, type ProxyAttempt } from './proxy.js';

/** Where the install run finds what the host hands it. */
export const SANDBOX_PATHS = {
  env: '/env',
  layer: '/code4py/layer',
  layerOut: '/code4py/layer-out',
  proxy: '/code4py/proxy',
  secret: '/code4py/secret',
  spec: '/code4py/spec',
  tmp: '/code4py/tmp',
} as const;

const FailureSchema = z.object({
  ok: z.literal(false),
  step: z.string(),
  exitCode: z.number().int(),
  output: z.string(),
  command: z.string().optional(),
});
export type DriverFailure = z.infer<typeof FailureSchema>;

export interface InstallRunOptions {
  readonly sandbox: Sandbox;
  /** The interpreter inside the sandbox that runs the driver. */
  readonly python: string;
  /** The driver's SPEC (never a secret: the host's process list shows it). */
  readonly spec: Readonly<Record<string, unknown>>;
  readonly workDir: string;
  readonly mounts: readonly Mount[];
  /** When given, the run reaches these indexes and hosts through the allow-listing proxy; otherwise nothing. */
  readonly network?: EnvironmentSettings;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface InstallRunResult<T> {
  /** The driver's answer, or why there is none. */
  readonly answer: T | DriverFailure;
  readonly run: RunResult;
  /** What the run asked the proxy for. */
  readonly attempts: readonly ProxyAttempt[];
}

/** The host's certificate authorities, as Debian's ca-certificates package writes them. */
const CA_CERTIFICATES = '/etc/ssl/certs';

/**
 * Runs python/environment.py in the sandbox. With `network`, an allow-listing proxy is started on the host
 * for this run alone, its socket's folder mounted in, and the index credentials (if any) handed over in a
 * netrc file mounted for this run alone; both are gone when the run returns (or a step before it fails).
 */
export async function runDriver<T>(schema: z.ZodType<T>, options: InstallRunOptions): Promise<InstallRunResult<T>> {
  let proxy: AllowListProxy | null = null;
  let secret: string | null = null;
  let scratch: string | null = null;
  try {
    proxy = options.network ? await startAllowListProxy(options.network.allowedHosts) : null;
    secret = options.network ? await writeNetrc([options.network.index, ...options.network.extraIndexes], options.sandbox.runAs) : null;
    scratch = await mkdtemp(join(tmpdir(), 'code4py-install-tmp-'));
    const mounts: Mount[] = [...options.mounts, { host: scratch, sandbox: SANDBOX_PATHS.tmp, writable: true }];
    if (proxy) mounts.push({ host: proxy.dir, sandbox: SANDBOX_PATHS.proxy, writable: false });
    if (secret) mounts.push({ host: secret, sandbox: SANDBOX_PATHS.secret, writable: false });
    // An index on https needs the host's certificate authorities (Debian's pip reads this bundle); only the
    // install run, which has the network, sees them.
    if (options.network && existsSync(CA_CERTIFICATES)) mounts.push({ host: CA_CERTIFICATES, sandbox: CA_CERTIFICATES, writable: false });
    const spec = {
      ...options.spec,
      tmp: SANDBOX_PATHS.tmp,
      ...(proxy ? { proxy: `${SANDBOX_PATHS.proxy}/${proxy.socketName}` } : {}),
      ...(secret ? { netrc: `${SANDBOX_PATHS.secret}/netrc` } : {}),
    };
    const run = await options.sandbox.run({
      command: [options.python, '-I', '-c', pythonScript('environment'), JSON.stringify(spec)],
      channel: true,
      workDir: options.workDir,
      mounts,
      limits: {
        wallTimeMs: options.timeoutMs,
        cpuSeconds: Math.ceil(options.timeoutMs / 1000) + 5,
        memoryBytes: 2 * 1024 * 1024 * 1024,
        processes: 256,
        // Wheels of numeric libraries run to hundreds of MB.
        fileSizeBytes: 4 * 1024 * 1024 * 1024,
        openFiles: 1024,
      },
      signal: options.signal,
    });
    return { answer: readAnswer(schema, run), run, attempts: proxy?.attempts() ?? [] };
  } finally {
    await proxy?.close();
    if (secret) await rm(secret, { recursive: true, force: true });
    if (scratch) await rm(scratch, { recursive: true, force: true });
  }
}

function readAnswer<T>(schema: z.ZodType<T>, run: RunResult): T | DriverFailure {
  const why = (text: string): DriverFailure => ({ ok: false, step: 'driver', exitCode: run.exitCode ?? -1, output: text });
  if (run.aborted) return why('the install run was cancelled');
  if (run.timedOut) return { ...why('the install run timed out and was killed'), step: 'timeout' };
  if (run.outOfMemory) return why('the install run ran out of memory and was killed');
  let json: unknown = null;
  try {
    json = JSON.parse(run.channel);
  } catch {
    return why(lastLines(run.stderr || run.stdout, 8) || `the install run ended (exit ${run.exitCode ?? run.signal}) without an answer`);
  }
  const failure = FailureSchema.safeParse(json);
  if (failure.success) return failure.data;
  const answer = schema.safeParse(json);
  return answer.success ? answer.data : why(`the install run's answer could not be read: ${run.channel.slice(0, 200)}`);
}

export function isFailure<T>(answer: T | DriverFailure): answer is DriverFailure {
  return typeof answer === 'object' && answer !== null && (answer as { ok?: unknown }).ok === false;
}

/**
 * A private folder holding a netrc with the indexes' credentials; null when none has any. Both belong to
 * the run's user (`owner`, when the sandbox runs as another), the only one who may read them.
 */
async function writeNetrc(indexes: readonly PackageIndex[], owner: Sandbox['runAs']): Promise<string | null> {
  const lines = indexes.flatMap((index) =>
    index.credentials ? [`machine ${index.host} login ${netrcToken(index.credentials.username)} password ${netrcToken(index.credentials.password)}`] : [],
  );
  if (lines.length === 0) return null;
  const dir = await mkdtemp(join(tmpdir(), 'code4py-secret-'));
  try {
    const file = join(dir, 'netrc');
    await writeFile(file, `${lines.join('\n')}\n`, { mode: 0o600 });
    if (owner) {
      await chown(file, owner.uid, owner.gid);
      await chown(dir, owner.uid, owner.gid);
    }
    return dir;
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

/** netrc tokens end at whitespace; Python's netrc reads a double-quoted token with backslash escapes. */
function netrcToken(value: string): string {
  return /[\s"\\]/.test(value) ? `"${value.replace(/["\\]/g, (c) => `\\${c}`)}"` : value;
}

function lastLines(text: string, n: number): string {
  return text.trim().split('\n').slice(-n).join('\n');
}
