import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Sandbox } from '../../sandbox/types.js';
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
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export function pipContext(options: {
  sandbox: Sandbox;
  interpreter: Interpreter;
  settings: EnvironmentSettings;
  pipWheel: string;
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
    spec: { pip: options.pipWheel, index: settings.index.url, extraIndex: settings.extraIndexes.map((i) => i.url), trustedHosts, onlyBinary: options.onlyBinary },
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

/** A failed install run in one line (its step and last words). */
export function pipFailureText(failure: DriverFailure): string {
  const last = failure.output.trim().split('\n').filter((l) => l.trim()).slice(-1)[0] ?? '';
  const what = failure.step === 'timeout' ? 'it timed out' : failure.step === 'pip' ? `pip failed (exit ${failure.exitCode})` : `the ${failure.step} step failed`;
  return `${what}${last ? `: ${last.replace(/^ERROR:\s*/, '').slice(0, 300)}` : ''}`;
}
