import picomatch from 'picomatch';
import type { PathsConfig } from '../../config/repo-config.js';

/** A file as the model proposes it (`code4py_solution`): whole content or a unified diff. */
export interface ProposedFile {
  readonly path: string;
  readonly content: string | null;
  readonly patch: string | null;
}

export interface RejectedFile {
  /** The path exactly as the model gave it. */
  readonly path: string;
  /** Why it is not written, in words for the pull request body and for the model's next attempt. */
  readonly reason: string;
}

export interface PathDecision<F extends ProposedFile> {
  /** In the model's order, each with its normalised path. */
  readonly accepted: F[];
  readonly rejected: RejectedFile[];
}

export type PathSettings = Pick<PathsConfig, 'allow' | 'deny' | 'max_files' | 'max_bytes'>;

/**
 * Decides which of the model's files may be written. Pure: `blocked` holds the repository's symbolic links
 * and submodules at the base commit (paths relative to its root), which no file may be written onto or
 * through.
 *
 * Paths are relative POSIX paths. A `.` segment means nothing and is dropped (`./src/a.py` is `src/a.py`);
 * everything else odd is refused rather than repaired: absolute paths, `..`, empty segments (`a//b`, a
 * trailing `/`), backslashes, control and invisible format characters, any segment starting with a dot
 * (`.github/`, `.git/`, `.env`, whatever the case), and `git~1` (the Windows short name of `.git`).
 * The limits are spent in the model's order: a file that would pass `max_files` or `max_bytes` is refused
 * and the next ones are still considered. A path given twice (ignoring case) is written once, the first time.
 */
export function applyPathPolicy<F extends ProposedFile>(files: readonly F[], settings: PathSettings, blocked: ReadonlySet<string> = new Set()): PathDecision<F> {
  // Globs never match dot-files (picomatch's default); normalisePath has refused them before anyway.
  const allow = picomatch([...settings.allow]);
  const deny = picomatch([...settings.deny]);
  const blockedLower = new Set([...blocked].map((path) => path.toLowerCase()));
  const seen = new Map<string, string>();
  const accepted: F[] = [];
  const rejected: RejectedFile[] = [];
  let bytes = 0;
  for (const file of files) {
    const refuse = (reason: string) => rejected.push({ path: file.path, reason });
    const path = normalisePath(file.path);
    if (!path.ok) {
      refuse(path.reason);
      continue;
    }
    const lower = path.path.toLowerCase();
    const link = ancestorsAndSelf(lower).find((prefix) => blockedLower.has(prefix));
    if (link !== undefined) {
      refuse(link === lower ? 'is a symbolic link or submodule in the repository; Code4Py never writes onto one' : `is inside ${link}, a symbolic link or submodule in the repository; Code4Py never writes through one`);
      continue;
    }
    if (!allow(path.path)) {
      refuse(`is outside the allowed paths (paths.allow: ${settings.allow.join(', ')})`);
      continue;
    }
    if (deny(path.path)) {
      refuse(`matches the denied paths (paths.deny: ${settings.deny.join(', ')})`);
      continue;
    }
    if ((file.content === null) === (file.patch === null)) {
      refuse('must carry either content (the whole file) or patch (a unified diff), not both or neither');
      continue;
    }
    const first = seen.get(lower);
    if (first !== undefined) {
      refuse(first === path.path ? 'is proposed twice; the first one is written' : `is the same file as ${first} (paths differing only in case are one file on many systems); the first one is written`);
      continue;
    }
    seen.set(lower, path.path);
    if (accepted.length >= settings.max_files) {
      refuse(`is over the limit of ${settings.max_files} files per generation (paths.max_files)`);
      continue;
    }
    const size = Buffer.byteLength((file.content ?? file.patch)!);
    if (bytes + size > settings.max_bytes) {
      refuse(`would take the generation over ${settings.max_bytes} bytes in all (paths.max_bytes): it has ${size} bytes and ${settings.max_bytes - bytes} are left`);
      continue;
    }
    bytes += size;
    accepted.push(path.path === file.path ? file : { ...file, path: path.path });
  }
  return { accepted, rejected };
}

export type NormalisedPath = { readonly ok: true; readonly path: string } | { readonly ok: false; readonly reason: string };

/** The path in canonical form, or why it can never be written (whatever the configuration says). */
export function normalisePath(raw: string): NormalisedPath {
  const refuse = (reason: string): NormalisedPath => ({ ok: false, reason });
  if (raw.length === 0) return refuse('is empty');
  if (raw.length > 1024) return refuse('is longer than 1024 characters');
  // Cc: control characters (NUL, newline, escape); Cf: invisible format characters (zero-width joiners,
  // bidi overrides) that hide what a path is; Zl/Zp: line and paragraph separators.
  if (/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]/u.test(raw)) return refuse('contains control or invisible characters');
  if (raw.includes('\\')) return refuse('contains a backslash; use forward slashes between folders');
  if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return refuse('is absolute; paths must be relative to the repository root');
  const given = raw.split('/');
  if (given.at(-1) === '.' || given.at(-1) === '') return refuse('names a folder, not a file');
  const segments = given.filter((segment) => segment !== '.');
  for (const segment of segments) {
    if (segment === '') return refuse('has an empty folder name (two slashes in a row)');
    if (segment === '..') return refuse('contains "..", which would leave its folder; paths must stay inside the repository');
    if (segment.startsWith('.')) {
      const what = segment.toLowerCase() === '.github' ? '.github/' : segment.toLowerCase() === '.git' ? '.git/' : `${segment} (a dot-file or dot-folder)`;
      return refuse(`is in ${what}, which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets`);
    }
    if (/^git~\d+$/i.test(segment)) return refuse(`contains ${segment}, which Windows reads as .git`);
    if (Buffer.byteLength(segment) > 255) return refuse('has a file or folder name longer than 255 bytes');
  }
  return { ok: true, path: segments.join('/') };
}

/** `a/b/c` → `a`, `a/b`, `a/b/c`. */
function ancestorsAndSelf(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
