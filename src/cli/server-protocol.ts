/**
 * What `code4py server` and the `code4py` command it serves share: where the socket is, what identifies a
 * build, which environment variables may differ, and the messages (one JSON object a line).
 *
 * The client side is on the path of every `code4py validate`, before anything else loads: this module
 * imports only Node's own modules and two small ones of ours (no zod, which alone takes ~70 ms to load). The server parses what a
 * client sends with a zod schema (server.ts); the client checks the server's few message shapes here.
 */
import { createHash } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cliCacheRoot } from '../config/cache-root.js';
import { packageRoot } from '../validate/python-scripts.js';

/** The server's folder (mode 0700) and socket, under the CLI's cache folder: one server per user and cache. */
export function serverPaths(env: NodeJS.ProcessEnv): { readonly dir: string; readonly socket: string } {
  const dir = join(cliCacheRoot(env), 'server');
  return { dir, socket: join(dir, 'socket') };
}

/**
 * Variables no part of code4py reads, which differ between two commands of one session: the shell's
 * bookkeeping, and what npm and npx set to describe their own run (`npm_*`, the folder it was started in).
 */
const UNREAD = new Set(['_', 'PWD', 'OLDPWD', 'SHLVL', 'COLUMNS', 'LINES', 'INIT_CWD', 'NODE', 'COLOR', 'EDITOR']);
const unread = (name: string): boolean => UNREAD.has(name) || name.startsWith('npm_');

/**
 * The names (never the values) of the variables set differently in `a` and `b`. A server runs a command only
 * when there are none: what runs in it (git, pip, the sandbox) sees the server's environment.
 */
export function differingVariables(a: NodeJS.ProcessEnv, b: NodeJS.ProcessEnv): string[] {
  const names = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...names].filter((name) => !unread(name) && a[name] !== b[name]).sort();
}

let build: string | undefined;

/**
 * This installation and build of code4py: its folder and the names, sizes and times of its files (the
 * bundle's and python/'s). A rebuilt or upgraded code4py has another, and an older server does not serve it.
 */
export function buildId(): string {
  if (build !== undefined) return build;
  const hash = createHash('sha256');
  for (const dir of [dirname(fileURLToPath(import.meta.url)), join(packageRoot(), 'python')]) {
    hash.update(`${dir}\0`);
    for (const name of safeList(dir).sort()) {
      const stat = statSync(join(dir, name), { throwIfNoEntry: false });
      if (stat?.isFile()) hash.update(`${name}\0${stat.size}\0${stat.mtimeMs}\0`);
    }
  }
  build = hash.digest('hex').slice(0, 16);
  return build;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** A client's first line: run `code4py ARGV` as if in CWD with ENV; or ask the server how it is, or to stop. */
export type ClientRequest =
  | { readonly kind: 'run'; readonly build: string; readonly argv: readonly string[]; readonly cwd: string; readonly env: Record<string, string>; readonly stdoutTTY: boolean; readonly stderrTTY: boolean }
  | { readonly kind: 'status' }
  | { readonly kind: 'stop' };

/** What a client may send after a `run`: Ctrl-C. */
export type ClientSignal = { readonly kind: 'interrupt' };

export interface ServerStatus {
  readonly pid: number;
  readonly build: string;
  readonly startedAt: string;
  readonly served: number;
  readonly running: number;
  readonly idleMinutes: number;
}

/** What the server answers: the command's output as it comes, then its exit status; or why it will not run it. */
export type ServerMessage =
  | { readonly kind: 'stdout' | 'stderr'; readonly data: string }
  | { readonly kind: 'exit'; readonly status: number }
  | { readonly kind: 'declined'; readonly reason: string }
  | ({ readonly kind: 'status' } & ServerStatus)
  | { readonly kind: 'stopping'; readonly running: number };

/** The longest line either side reads: a request carries the client's whole environment. */
export const MAX_LINE = 4 * 1024 * 1024;

/** One of the server's messages, or null for anything else (a server of another version, or no server at all). */
export function readServerMessage(line: string): ServerMessage | null {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const m = value as Record<string, unknown>;
  const isText = (key: string) => typeof m[key] === 'string';
  const isCount = (key: string) => Number.isInteger(m[key]) && (m[key] as number) >= 0;
  switch (m.kind) {
    case 'stdout':
    case 'stderr':
      return isText('data') ? (m as ServerMessage) : null;
    case 'exit':
      return isCount('status') ? (m as ServerMessage) : null;
    case 'declined':
      return isText('reason') ? (m as ServerMessage) : null;
    case 'status':
      return isCount('pid') && isText('build') && isText('startedAt') && isCount('served') && isCount('running') && typeof m.idleMinutes === 'number' ? (m as ServerMessage) : null;
    case 'stopping':
      return isCount('running') ? (m as ServerMessage) : null;
    default:
      return null;
  }
}

/** Calls `onLine` with each whole line of a stream's text, keeping a partial line for the next chunk; false once a line is too long. */
export function lineReader(onLine: (line: string) => void): (chunk: Buffer) => boolean {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString('utf8');
    let end = pending.indexOf('\n');
    while (end >= 0) {
      const line = pending.slice(0, end);
      pending = pending.slice(end + 1);
      if (line.trim()) onLine(line);
      end = pending.indexOf('\n');
    }
    return pending.length <= MAX_LINE;
  };
}

/** One message as a line. */
export function frame(message: ClientRequest | ClientSignal | ServerMessage): string {
  return `${JSON.stringify(message)}\n`;
}
