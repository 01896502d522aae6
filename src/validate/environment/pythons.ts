import { mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import type { ReadySandbox } from '../../sandbox/select.js';
import type { Mount, Sandbox } from '../../sandbox/types.js';
import { keptJson } from '../../json.js';
import { isFailure, runDriver } from './install-run.js';

/** What an interpreter is, as it says itself inside the sandbox (part of every cache key). */
export const InterpreterSchema = z.object({
  ok: z.literal(true),
  version: z.string(),
  implementation: z.string(),
  platform: z.string(),
  soabi: z.string(),
  libc: z.string(),
  executable: z.string(),
  prefix: z.string(),
  pytest: z.string().nullable(),
  coverage: z.string().nullable(),
});
export type InterpreterFacts = z.infer<typeof InterpreterSchema>;

export interface Interpreter {
  /** The path given (the sandbox's own, or one of CODE4PY_PYTHONS), as it is run inside the sandbox. */
  readonly path: string;
  readonly facts: InterpreterFacts;
  /** What must be mounted (read-only, at the same path) for it to run inside the sandbox. */
  readonly mounts: readonly Mount[];
}

export interface ChosenInterpreter extends Interpreter {
  /** Why this one, when the repository asked for another version. */
  readonly note?: string;
}

const probes = new WeakMap<Sandbox, Map<string, Promise<Interpreter>>>();

/**
 * The interpreter the environment is made with: the sandbox's own, or with `environment.python` the
 * registered one nearest that version (same minor first, then the closest minor, the newer on a tie).
 * Each interpreter is asked once per process what it is.
 */
export async function chooseInterpreter(ready: ReadySandbox, registered: readonly string[], wanted: string | undefined, cacheDir?: string): Promise<ChosenInterpreter> {
  const own = await probeInterpreter(ready.sandbox, ready.sandbox.python, cacheDir);
  if (!wanted) return own;
  const candidates = [own];
  const problems: string[] = [];
  for (const path of registered) {
    if (path === ready.sandbox.python) continue;
    try {
      candidates.push(await probeInterpreter(ready.sandbox, path, cacheDir));
    } catch (error) {
      problems.push(`${path}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  const best = nearest(wanted, candidates);
  const exact = minorOf(best.facts.version) === minorOf(wanted) || best.facts.version === wanted;
  if (exact) return best;
  const offered = candidates.map((c) => `${c.facts.version} (${c.path})`).join(', ');
  return {
    ...best,
    note: `environment.python asks for ${wanted}; the nearest registered interpreter is Python ${best.facts.version} (${best.path}). Registered: ${offered}${problems.length ? `; not usable: ${problems.join('; ')}` : ''}. The operator can register more with CODE4PY_PYTHONS.`,
  };
}

/** The candidate whose version is nearest `wanted`. */
export function nearest<T extends { readonly facts: { readonly version: string } }>(wanted: string, candidates: readonly T[]): T {
  // "3" asks for any Python 3: the first (the sandbox's own) does.
  if (!wanted.includes('.') && candidates.some((c) => c.facts.version.startsWith(`${wanted}.`))) return candidates.find((c) => c.facts.version.startsWith(`${wanted}.`))!;
  const target = versionParts(wanted);
  const score = (c: T): [number, number] => {
    const v = versionParts(c.facts.version);
    const distance = v[0] !== target[0] ? 1000 : Math.abs(v[1] - target[1]);
    return [distance, -v[1]];
  };
  return [...candidates].sort((a, b) => score(a)[0] - score(b)[0] || score(a)[1] - score(b)[1])[0]!;
}

function versionParts(version: string): [number, number] {
  const [major = '0', minor = '0'] = version.split('.');
  return [Number(major), Number(minor)];
}

function minorOf(version: string): string {
  return version.split('.').slice(0, 2).join('.');
}

/**
 * Asks the interpreter at `path` (inside the sandbox) what it is; once per sandbox and path. Under bwrap
 * the interpreter is the host's own file, so the answer is also kept in `cacheDir`, keyed by that file's
 * identity (a new process, such as the CLI's, then starts no sandbox run for it).
 */
function probeInterpreter(sandbox: Sandbox, path: string, cacheDir?: string): Promise<Interpreter> {
  let known = probes.get(sandbox);
  if (!known) probes.set(sandbox, (known = new Map()));
  let probe = known.get(path);
  if (!probe) {
    probe = sandbox.backend === 'bwrap' && cacheDir ? rememberedProbe(sandbox, path, cacheDir) : runProbe(sandbox, path);
    known.set(path, probe);
    probe.catch(() => known.delete(path));
  }
  return probe;
}

const RememberedSchema = z.object({ path: z.string(), facts: InterpreterSchema, mounts: z.array(z.object({ host: z.string(), sandbox: z.string(), writable: z.boolean() })) });

/** The probe of an interpreter, kept in the cache folder while its file is the same (and the sandbox's Python too). */
async function rememberedProbe(sandbox: Sandbox, path: string, cacheDir: string): Promise<Interpreter> {
  const real = await realpath(path).catch(() => null);
  const info = real ? await stat(real).catch(() => null) : null;
  if (!real || !info) return runProbe(sandbox, path);
  const identity = { probe: 1, path, real, size: info.size, mtime: info.mtimeMs, ino: info.ino, sandboxPython: sandbox.python };
  return keptJson(join(cacheDir, 'pythons'), identity, RememberedSchema, () => runProbe(sandbox, path));
}

async function runProbe(sandbox: Sandbox, path: string): Promise<Interpreter> {
  const mounts = await mountsFor(sandbox, path);
  const work = await mkdtemp(join(tmpdir(), 'code4py-probe-'));
  try {
    const { answer } = await runDriver(InterpreterSchema, { sandbox, python: path, spec: { mode: 'probe' }, workDir: work, mounts, timeoutMs: 20_000 });
    if (isFailure(answer)) throw new Error(`it does not run in the sandbox (${answer.output.trim().split('\n').pop() ?? answer.step})`);
    return { path, facts: answer, mounts };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * The sandbox binds the system folders (/usr, /bin, /lib…) read-only; an interpreter installed elsewhere
 * (/usr/local, /opt/python3.12, ~/.pyenv/versions/3.12.4) needs its own prefix bound too: the folder
 * above its bin/.
 */
async function mountsFor(sandbox: Sandbox, path: string): Promise<Mount[]> {
  if (sandbox.backend !== 'bwrap' || path === sandbox.python) return [];
  const real = await realpath(path).catch(() => null);
  if (!real) throw new Error('there is no such file');
  if (real.startsWith('/usr/') && !real.startsWith('/usr/local/')) return [];
  const prefix = real.startsWith('/usr/local/') ? '/usr/local' : dirname(dirname(real));
  const mounts: Mount[] = [{ host: prefix, sandbox: prefix, writable: false }];
  if (!path.startsWith(`${prefix}/`)) mounts.push({ host: path, sandbox: path, writable: false });
  return mounts;
}
