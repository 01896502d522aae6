import { posix } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';

// Reading a repository's Ruff configuration files as Ruff does: in a folder, `.ruff.toml` wins over
// `ruff.toml`, which wins over a `pyproject.toml` with a `[tool.ruff]` table; `extend` names another file,
// relative to the one that names it, whose settings the first one overrides. Only files inside the
// repository are read. Every key not named below is handed to Ruff unread, and Ruff checks it.

const strings = z.array(z.string());
const perFile = z.record(z.string(), strings);

/** The rule selection keys, in `[lint]` and (deprecated) at the top level. */
const SELECTION = {
  select: strings.optional(),
  'extend-select': strings.optional(),
  ignore: strings.optional(),
  'extend-ignore': strings.optional(),
  'per-file-ignores': perFile.optional(),
  'extend-per-file-ignores': perFile.optional(),
};

/** The keys Code4Py itself interprets; the rest of each table passes through to Ruff. */
const LintTableSchema = z.looseObject({ ...SELECTION, exclude: strings.optional() });
export type LintTable = z.infer<typeof LintTableSchema>;

const RuffTableSchema = z.looseObject({
  extend: z.string().optional(),
  exclude: strings.optional(),
  'extend-exclude': strings.optional(),
  include: strings.optional(),
  'extend-include': strings.optional(),
  'target-version': z.string().optional(),
  'per-file-target-version': z.record(z.string(), z.string()).optional(),
  'line-length': z.number().int().positive().optional(),
  preview: z.boolean().optional(),
  lint: LintTableSchema.optional(),
  format: z.looseObject({ exclude: strings.optional() }).optional(),
  // Ruff still reads the lint settings at the top level (deprecated); `lint.*` wins over them.
  ...SELECTION,
});
export type RuffTable = z.infer<typeof RuffTableSchema>;

const PyprojectSchema = z.looseObject({
  tool: z.looseObject({ ruff: z.unknown().optional() }).optional(),
  project: z.looseObject({ 'requires-python': z.string().optional() }).optional(),
});

/** The deprecated top-level forms of `lint.*` keys (Ruff's LintCommonOptions). */
const LINT_COMMON_KEYS = [
  'allowed-confusables', 'dummy-variable-rgx', 'extend-ignore', 'extend-select', 'extend-fixable', 'extend-unfixable',
  'external', 'fixable', 'ignore', 'extend-safe-fixes', 'extend-unsafe-fixes', 'ignore-init-module-imports',
  'logger-objects', 'select', 'explicit-preview-rules', 'task-tags', 'typing-modules', 'unfixable',
  'flake8-annotations', 'flake8-bandit', 'flake8-boolean-trap', 'flake8-bugbear', 'flake8-builtins',
  'flake8-comprehensions', 'flake8-copyright', 'flake8-errmsg', 'flake8-quotes', 'flake8-self', 'flake8-tidy-imports',
  'flake8-type-checking', 'flake8-gettext', 'flake8-implicit-str-concat', 'flake8-import-conventions',
  'flake8-pytest-style', 'flake8-unused-arguments', 'isort', 'mccabe', 'pep8-naming', 'pycodestyle', 'pydocstyle',
  'pyflakes', 'pylint', 'pyupgrade', 'per-file-ignores', 'extend-per-file-ignores',
] as const;

export const CONFIG_NAMES = ['.ruff.toml', 'ruff.toml', 'pyproject.toml'] as const;

/** One file of a configuration chain, its lint keys all under `lint`. */
export interface ConfigLayer {
  /** Repository path of the file. */
  readonly file: string;
  /** Its folder ('' for the root): the file's relative paths and globs start there. */
  readonly dir: string;
  readonly table: RuffTable;
}

/** A configuration file and the files it extends, the file itself first. */
export interface RuffConfig {
  readonly file: string;
  readonly dir: string;
  readonly layers: readonly ConfigLayer[];
}

export type LoadedConfig = { readonly ok: true; readonly config: RuffConfig } | { readonly ok: false; readonly file: string; readonly message: string };

/** Files by repository path; null for a file that is not UTF-8 text. */
export type TextLookup = (path: string) => string | null | undefined;

/**
 * Parsed TOML documents by file, per lookup (one validation's files): a pyproject.toml asked whether it
 * has a [tool.ruff] table, loaded as a configuration and read for requires-python is parsed once.
 */
const parsedByLookup = new WeakMap<TextLookup, Map<string, { ok: true; document: unknown } | { ok: false; error: unknown }>>();

/** `content` (the text of `file` in `text`) parsed as TOML, or its parse error thrown, as smol-toml's parse would. */
function parsedToml(text: TextLookup, file: string, content: string): unknown {
  let parsed = parsedByLookup.get(text);
  if (!parsed) parsedByLookup.set(text, (parsed = new Map()));
  let entry = parsed.get(file);
  if (!entry) {
    try {
      entry = { ok: true, document: parseToml(content) };
    } catch (error) {
      entry = { ok: false, error };
    }
    parsed.set(file, entry);
  }
  if (!entry.ok) throw entry.error;
  return entry.document;
}

/** The configuration file Ruff would use for the files of `dir` itself, or null. */
export function configFileIn(dir: string, text: TextLookup): string | null {
  for (const name of CONFIG_NAMES) {
    const file = dir ? `${dir}/${name}` : name;
    const content = text(file);
    if (content === undefined) continue;
    // A pyproject.toml counts only with a [tool.ruff] table (one that cannot mention ruff has none).
    if (name === 'pyproject.toml' && (content === null || !/ruff/.test(content) || !hasRuffTable(text, file, content))) continue;
    return file;
  }
  return null;
}

function hasRuffTable(text: TextLookup, file: string, content: string): boolean {
  try {
    return PyprojectSchema.parse(parsedToml(text, file, content)).tool?.ruff !== undefined;
  } catch {
    // A pyproject.toml that mentions ruff but does not parse is reported by loadConfig.
    return true;
  }
}

/** Loads `file` and the chain of files it extends. Every problem names the file and what to change. */
export function loadConfig(file: string, text: TextLookup): LoadedConfig {
  const layers: ConfigLayer[] = [];
  let next: string | null = file;
  while (next !== null) {
    const current: string = next;
    if (layers.some((l) => l.file === current)) {
      return { ok: false, file, message: `${[...layers.map((l) => l.file), current].join(' extends ')}: the configurations extend each other in a circle; remove one \`extend\`` };
    }
    const layer = readLayer(current, text);
    if (!layer.ok) return { ok: false, file, message: layers.length === 0 ? layer.message : `${layer.message} (extended by ${layers.at(-1)?.file})` };
    layers.push(layer.layer);
    const extend = layer.layer.table.extend;
    if (extend === undefined) break;
    const target = resolveExtend(layer.layer, extend);
    if (!target.ok) return { ok: false, file, message: target.message };
    next = target.path;
  }
  return { ok: true, config: { file, dir: posix.dirname(file) === '.' ? '' : posix.dirname(file), layers } };
}

function readLayer(file: string, text: TextLookup): { ok: true; layer: ConfigLayer } | { ok: false; message: string } {
  const content = text(file);
  if (content === undefined) {
    // `code4py validate DIR` does not copy dot-folders (.git, .venv, .config, …), so a file there is not seen.
    const hidden = file.split('/').slice(0, -1).some((part) => part.startsWith('.'));
    return { ok: false, message: `${file} does not exist in the repository${hidden ? ' (or is in a dot-folder, which `code4py validate` does not read)' : ''}` };
  }
  if (content === null) return { ok: false, message: `${file} is not UTF-8 text` };
  let document: unknown;
  try {
    document = parsedToml(text, file, content);
  } catch (error) {
    const where = error instanceof TomlError ? ` at line ${error.line}, column ${error.column}` : '';
    const why = error instanceof Error ? (error.message.split('\n')[0] ?? '').replace(/^Invalid TOML document: /, '') : String(error);
    return { ok: false, message: `${file} is not valid TOML${where}: ${why}` };
  }
  const isPyproject = posix.basename(file) === 'pyproject.toml';
  const pyproject = isPyproject ? PyprojectSchema.safeParse(document) : null;
  const raw = pyproject ? (pyproject.success ? (pyproject.data.tool?.ruff ?? {}) : {}) : document;
  const prefix = isPyproject ? 'tool.ruff.' : '';
  const parsed = RuffTableSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const key = issue ? `${prefix}${issue.path.map(String).join('.')}` : `${prefix}(table)`;
    return { ok: false, message: `${file}: ${key}: ${issue?.message ?? 'invalid'}` };
  }
  const table = liftLintKeys(parsed.data);
  // Ruff takes a pyproject.toml's target-version from its requires-python when the table has none.
  const requires = pyproject?.success ? pyproject.data.project?.['requires-python'] : undefined;
  const target = table['target-version'] ?? (requires ? targetFromRequiresPython(requires) : null);
  const dir = posix.dirname(file) === '.' ? '' : posix.dirname(file);
  return { ok: true, layer: { file, dir, table: target ? { ...table, 'target-version': target } : table } };
}

/** Moves the deprecated top-level lint keys under `lint`, where Ruff reads them (`lint.*` wins). */
function liftLintKeys(table: RuffTable): RuffTable {
  const top: Record<string, unknown> = { ...table };
  const lint: Record<string, unknown> = { ...(table.lint ?? {}) };
  let moved = false;
  for (const key of LINT_COMMON_KEYS) {
    if (!(key in top)) continue;
    moved = true;
    if (!(key in lint)) lint[key] = top[key];
    delete top[key];
  }
  return moved || table.lint ? ({ ...top, lint } as RuffTable) : table;
}

function resolveExtend(layer: ConfigLayer, extend: string): { ok: true; path: string } | { ok: false; message: string } {
  const outside = `${layer.file}: extend = ${JSON.stringify(extend)} points outside the repository; Code4Py reads only configuration files inside it, so copy the settings in or extend a file of the repository`;
  if (extend.startsWith('/') || extend.startsWith('~') || extend.includes('$') || /^[A-Za-z]:[\\/]/.test(extend)) return { ok: false, message: outside };
  const path = posix.normalize(posix.join(layer.dir || '.', extend));
  if (path === '..' || path.startsWith('../')) return { ok: false, message: outside };
  return { ok: true, path };
}

const KNOWN_MINORS = new Set([7, 8, 9, 10, 11, 12, 13, 14, 15]);

/** Ruff's reading of `requires-python`: the lowest major.minor any lower bound allows, e.g. `>=3.9,<4` → py39. */
function targetFromRequiresPython(specifiers: string): string | null {
  let lowest: [number, number] | null = null;
  for (const specifier of specifiers.split(',')) {
    const match = /^\s*(===|==|~=|>=|>)\s*(\d+)\.(\d+)/.exec(specifier);
    if (!match) continue;
    const version: [number, number] = [Number(match[2]), Number(match[3])];
    if (!lowest || version[0] < lowest[0] || (version[0] === lowest[0] && version[1] < lowest[1])) lowest = version;
  }
  if (!lowest || lowest[0] !== 3 || !KNOWN_MINORS.has(lowest[1])) return null;
  return `py3${lowest[1]}`;
}

/** The target version from the nearest pyproject.toml's requires-python at or above `dir` (Ruff's fallback). */
export function requiresPythonTarget(dir: string, text: TextLookup): string | null {
  for (let at: string | null = dir; at !== null; at = at === '' ? null : posix.dirname(at) === '.' ? '' : posix.dirname(at)) {
    const file = at ? `${at}/pyproject.toml` : 'pyproject.toml';
    const content = text(file);
    if (typeof content !== 'string' || !content.includes('requires-python')) continue;
    try {
      const requires = PyprojectSchema.parse(parsedToml(text, file, content)).project?.['requires-python'];
      const target = requires ? targetFromRequiresPython(requires) : null;
      if (target) return target;
    } catch {
      // A broken pyproject.toml gives no fallback; if it is a Ruff configuration, loadConfig reports it.
    }
  }
  return null;
}
