import { posix } from 'node:path';
import picomatch from 'picomatch';

// Ruff matches `exclude`, `include`, `per-file-ignores` and `per-file-target-version` with the globset
// crate: a pattern is made absolute against the directory of the file that sets it, `*` also matches `/`
// (globset's default), and a pattern is also tried against the bare file name. picomatch's bash mode
// treats a single star the same way. Paths here are the repository's, rooted at a virtual `/`.

const OPTIONS: picomatch.PicomatchOptions = { bash: true, dot: true };

/** Ruff's built-in `exclude` list, used unless a configuration sets `exclude` itself. */
export const DEFAULT_EXCLUDE: readonly string[] = [
  '.bzr', '.direnv', '.eggs', '.git', '.git-rewrite', '.hg', '.ipynb_checkpoints', '.mypy_cache', '.nox', '.pants.d',
  '.pyenv', '.pytest_cache', '.pytype', '.ruff_cache', '.svn', '.tox', '.venv', '.vscode', '__pypackages__', '_build',
  'buck-out', 'dist', 'node_modules', 'site-packages', 'venv',
];

/** A pattern from a configuration file, with the repository folder it is relative to ('' for the root). */
export interface RootedPattern {
  readonly root: string;
  readonly pattern: string;
}

/** Matches a repository path (a file or a folder) against one rooted pattern, as Ruff does. */
export type PathMatcher = (path: string) => boolean;

/** `exclude`-style: the pattern made absolute, or (when it names no folder) the bare name. */
export function exclusionMatcher(patterns: readonly RootedPattern[]): PathMatcher {
  const tests = patterns.flatMap(({ root, pattern }) => {
    const absolute = absolutePattern(root, pattern);
    const onAbsolute = absolute === null ? null : picomatch(absolute, OPTIONS);
    const onName = pattern.includes('/') ? null : picomatch(pattern, OPTIONS);
    return [(path: string) => (onAbsolute?.(`/${path}`) ?? false) || (onName?.(posix.basename(path)) ?? false)];
  });
  return (path) => tests.some((test) => test(path));
}

/** Ruff's built-in patterns match a bare name anywhere. */
export function builtinMatcher(names: readonly string[]): PathMatcher {
  const set = new Set(names);
  return (path) => set.has(posix.basename(path));
}

/** `include`-style: the whole path against each pattern (absolute), a name-only pattern also anywhere. */
export function inclusionMatcher(patterns: readonly RootedPattern[]): PathMatcher {
  const tests = patterns.flatMap(({ root, pattern }) => {
    const absolute = absolutePattern(root, pattern);
    const tests: PathMatcher[] = [];
    if (absolute !== null) {
      const test = picomatch(absolute, OPTIONS);
      tests.push((path) => test(`/${path}`));
    }
    // globset tries a name-only pattern against the whole path too; with `*` crossing `/` it matches at any depth.
    if (!pattern.includes('/')) {
      const test = picomatch(`**/${pattern}`, OPTIONS);
      tests.push((path) => test(`/${path}`));
    }
    return tests;
  });
  return (path) => tests.some((test) => test(path));
}

/** A per-file entry (`per-file-ignores`, `per-file-target-version`): `!` negates it; the name is tried first. */
export function perFileMatcher(entry: RootedPattern): PathMatcher {
  const negated = entry.pattern.startsWith('!');
  const pattern = negated ? entry.pattern.slice(1) : entry.pattern;
  const absolute = absolutePattern(entry.root, pattern);
  const onAbsolute = absolute === null ? () => false : picomatch(absolute, OPTIONS);
  const onName = picomatch(pattern, OPTIONS);
  return (path) => {
    const matches = onName(posix.basename(path)) || onAbsolute(`/${path}`);
    return negated ? !matches : matches;
  };
}

/**
 * The pattern joined to its folder and normalised (`..` resolved), as Ruff's `normalize_path_to`; null for a
 * pattern that names an absolute path on some machine, which no repository path can match.
 */
function absolutePattern(root: string, pattern: string): string | null {
  if (pattern.startsWith('/') || pattern.startsWith('~')) return null;
  const joined = posix.normalize(`/${escapeGlob(root)}${root ? '/' : ''}${pattern}`);
  return joined.length > 1 && joined.endsWith('/') ? joined.slice(0, -1) : joined;
}

/** Folder names are literal text: their glob characters are wrapped in brackets (bash mode has no `\` escape). */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]{}()!+@]/g, (c) => `[${c}]`);
}

/** The folders above `path` and `path` itself, shortest first: `a`, `a/b`, `a/b/c.py`. */
export function ancestry(path: string): string[] {
  const parts = path.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
