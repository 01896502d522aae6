import { execFile } from 'node:child_process';
import { access, mkdir, readdir, rename, rm } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { promisify } from 'node:util';
import type { Mount, Sandbox } from '../../sandbox/types.js';
import type { EnvironmentSettings } from './env.js';
import type { DriverFailure } from './install-run.js';
import type { Interpreter } from './pythons.js';

/** Where Debian's python3-pip-whl puts pip's wheel; pip runs from it (the environments have no pip of their own). */
export const PYTHON_WHEELS = '/usr/share/python-wheels';

/** What every install run of one preparation shares: the interpreter, the indexes, pip's options. */
export interface PipContext {
  readonly sandbox: Sandbox;
  readonly interpreter: Interpreter;
  /** The interpreter's facts that decide what gets installed (part of every key). */
  readonly interpreterKey: Readonly<Record<string, string>>;
  readonly settings: EnvironmentSettings;
  /** The indexes' URLs without credentials (part of every key). */
  readonly indexUrls: readonly string[];
  readonly onlyBinary: boolean;
  /** The driver's SPEC fields about pip. */
  readonly spec: Readonly<Record<string, unknown>>;
  /** What every install run mounts: the interpreter's prefix, pip. */
  readonly mounts: readonly Mount[];
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export function pipContext(options: {
  sandbox: Sandbox;
  interpreter: Interpreter;
  settings: EnvironmentSettings;
  pipWheel: string;
  /** pip unpacked (see unpackedPip), mounted at /code4py/pip; null to run it from the wheel. */
  unpackedPip: string | null;
  onlyBinary: boolean;
  timeoutMs: number;
  signal?: AbortSignal;
}): PipContext {
  const { interpreter, settings } = options;
  const f = interpreter.facts;
  const indexes = [settings.index, ...settings.extraIndexes];
  // pip refuses plain-http indexes unless told to trust them (loopback excepted); the operator chose them.
  const trustedHosts = indexes.filter((i) => i.url.startsWith('http:') && !/^(127\.|localhost$|::1$)/.test(i.host)).map((i) => i.host);
  return {
    sandbox: options.sandbox,
    interpreter,
    interpreterKey: { backend: options.sandbox.backend, path: interpreter.path, version: f.version, implementation: f.implementation, platform: f.platform, soabi: f.soabi, libc: f.libc },
    settings,
    indexUrls: indexes.map((i) => i.url),
    onlyBinary: options.onlyBinary,
    spec: { pip: options.unpackedPip ? PIP_MOUNT : options.pipWheel, pipWheel: options.pipWheel, index: settings.index.url, extraIndex: settings.extraIndexes.map((i) => i.url), trustedHosts, onlyBinary: options.onlyBinary },
    mounts: [...interpreter.mounts, ...(options.unpackedPip ? [{ host: options.unpackedPip, sandbox: PIP_MOUNT, writable: false }] : [])],
    timeoutMs: options.timeoutMs,
    ...(options.signal ? { signal: options.signal } : {}),
  };
}

let wheel: Promise<string | null> | undefined;
/** The newest pip wheel of python3-pip-whl, or null when the package is not installed. */
export function findPipWheel(): Promise<string | null> {
  wheel ??= readdir(PYTHON_WHEELS)
    .then((names) => {
      const found = names.filter((n) => /^pip-\d.*\.whl$/.test(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
      return found.length ? join(PYTHON_WHEELS, found[found.length - 1]!) : null;
    })
    .catch(() => null);
  return wheel;
}

const PIP_MOUNT = '/code4py/pip';
const unpacking = new Map<string, Promise<string | null>>();

/**
 * pip unpacked from its wheel into the cache folder, its modules compiled, once per cache folder and wheel:
 * run from the zip, every pip start (pip install, and each of its build-isolation subprocesses) compiles
 * pip's modules anew, about 0.8 s of CPU each (bench:environment measures it). Unpacked with the host's
 * Python (the sandbox's, under bwrap); null, and pip runs from the wheel, when that cannot be done.
 */
export function unpackedPip(cacheDir: string, wheel: string, hostPython: string): Promise<string | null> {
  const target = join(cacheDir, 'pip', basename(wheel, '.whl'));
  let done = unpacking.get(target);
  if (!done) {
    done = unpack(target, wheel, hostPython).catch(() => null);
    unpacking.set(target, done);
  }
  return done;
}

async function unpack(target: string, wheel: string, hostPython: string): Promise<string | null> {
  if (await access(join(target, 'pip', '__main__.py')).then(() => true, () => false)) return target;
  const staging = `${target}.${process.pid}.${Date.now()}`;
  const run = promisify(execFile);
  const env = { PATH: '/usr/bin:/bin', LANG: 'C.UTF-8' };
  try {
    await mkdir(staging, { recursive: true });
    await run(hostPython, ['-I', '-m', 'zipfile', '-e', wheel, staging], { env, timeout: 60_000 });
    await run(hostPython, ['-I', '-m', 'compileall', '-q', '-j', '0', staging], { env, timeout: 120_000 });
    await rename(staging, target).catch(async (error: NodeJS.ErrnoException) => {
      // Another process unpacked it first.
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
    return target;
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** A failed install run in one line (its step and last words). */
export function pipFailureText(failure: DriverFailure): string {
  const last = failure.output.trim().split('\n').filter((l) => l.trim()).slice(-1)[0] ?? '';
  const what = failure.step === 'timeout' ? 'it timed out' : failure.step === 'pip' ? `pip failed (exit ${failure.exitCode})` : `the ${failure.step} step failed`;
  return `${what}${last ? `: ${last.replace(/^ERROR:\s*/, '').slice(0, 300)}` : ''}`;
}
