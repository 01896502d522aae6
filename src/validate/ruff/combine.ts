import type { RootedPattern } from './ruff-globs.js';
import type { ConfigLayer, LintTable, RuffTable } from './project-config.js';

// Merging a configuration chain as Ruff's `Configuration::combine` does: a key the extending file sets wins,
// tables merge key by key, and the `extend-*` lists add up. Rule selection is layered in Ruff (each file's
// select/extend-select/ignore applied in turn); a Workspace takes one selection, so the layers are folded
// into one that selects the same rules (see foldSelections).

/** One file's rule selection (Ruff's RuleSelection). */
export interface Selection {
  readonly select?: readonly string[];
  readonly extendSelect: readonly string[];
  readonly ignore: readonly string[];
}

/** A per-file entry with the folder its pattern is relative to. */
export interface PerFileEntry<T> extends RootedPattern {
  readonly value: T;
}

/** A configuration chain merged: what Ruff gets as options, and what Code4Py applies itself. */
export interface CombinedConfig {
  /** Every option Ruff reads from a text alone (rule selection and path-based keys taken out). */
  readonly options: Record<string, unknown>;
  /** Base first, then each extending file. */
  readonly selections: readonly Selection[];
  /** null: Ruff's built-in list. */
  readonly exclude: readonly RootedPattern[] | null;
  readonly extendExclude: readonly RootedPattern[];
  /** null: `*.py` (Ruff's default include, as far as Python files go). */
  readonly include: readonly RootedPattern[] | null;
  readonly extendInclude: readonly RootedPattern[];
  readonly lintExclude: readonly RootedPattern[];
  readonly formatExclude: readonly RootedPattern[];
  readonly perFileIgnores: ReadonlyArray<PerFileEntry<readonly string[]>>;
  readonly perFileTargetVersion: ReadonlyArray<PerFileEntry<string>>;
  readonly targetVersion: string | null;
}

/** Keys Code4Py handles (paths and globs Ruff cannot match without a file path) or that need a file system. */
const TOP_LEVEL_HANDLED = new Set([
  'extend', 'exclude', 'extend-exclude', 'include', 'extend-include', 'force-exclude', 'respect-gitignore', 'cache-dir',
  'src', 'namespace-packages', 'required-version', 'per-file-target-version', 'extension', 'target-version',
]);
const LINT_HANDLED = new Set(['select', 'extend-select', 'ignore', 'extend-ignore', 'exclude', 'per-file-ignores', 'extend-per-file-ignores']);
/** Lists that accumulate along the chain instead of being replaced. */
const LINT_ACCUMULATED = new Set(['extend-safe-fixes', 'extend-unsafe-fixes', 'extend-fixable', 'extend-unfixable']);

/** Merges a chain given the extending file first (as loadConfig returns it). */
export function combineLayers(layers: readonly ConfigLayer[]): CombinedConfig {
  const baseFirst = [...layers].reverse();
  let options: Record<string, unknown> = {};
  let exclude: RootedPattern[] | null = null;
  let include: RootedPattern[] | null = null;
  let lintExclude: RootedPattern[] = [];
  let formatExclude: RootedPattern[] = [];
  let perFileIgnores: Array<PerFileEntry<readonly string[]>> | null = null;
  let perFileTargetVersion: Array<PerFileEntry<string>> | null = null;
  let targetVersion: string | null = null;
  const extendExclude: RootedPattern[] = [];
  const extendInclude: RootedPattern[] = [];
  const extendPerFileIgnores: Array<PerFileEntry<readonly string[]>> = [];
  const selections: Selection[] = [];
  for (const { table, dir } of baseFirst) {
    const rooted = (patterns: readonly string[] | undefined): RootedPattern[] => (patterns ?? []).map((pattern) => ({ root: dir, pattern }));
    const lint: LintTable = table.lint ?? {};
    if (table.exclude) exclude = rooted(table.exclude);
    if (table.include) include = rooted(table.include);
    if (lint.exclude) lintExclude = rooted(lint.exclude);
    if (table.format?.exclude) formatExclude = rooted(table.format.exclude);
    extendExclude.push(...rooted(table['extend-exclude']));
    extendInclude.push(...rooted(table['extend-include']));
    if (lint['per-file-ignores']) perFileIgnores = perFile(lint['per-file-ignores'], dir);
    extendPerFileIgnores.push(...perFile(lint['extend-per-file-ignores'] ?? {}, dir));
    if (table['per-file-target-version']) perFileTargetVersion = perFile(table['per-file-target-version'], dir);
    targetVersion = table['target-version'] ?? targetVersion;
    selections.push({
      ...(lint.select ? { select: lint.select } : {}),
      extendSelect: lint['extend-select'] ?? [],
      ignore: [...(lint.ignore ?? []), ...(lint['extend-ignore'] ?? [])],
    });
    options = mergeOptions(options, ruffOptions(table));
  }
  return {
    options,
    selections,
    exclude,
    extendExclude,
    include,
    extendInclude,
    lintExclude,
    formatExclude,
    perFileIgnores: [...(perFileIgnores ?? []), ...extendPerFileIgnores],
    perFileTargetVersion: perFileTargetVersion ?? [],
    targetVersion,
  };
}

function perFile<T>(table: Readonly<Record<string, T>>, root: string): Array<PerFileEntry<T>> {
  return Object.entries(table).map(([pattern, value]) => ({ root, pattern, value }));
}

/** The part of one file's table that Ruff gets as it is. */
function ruffOptions(table: RuffTable): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(table)) {
    if (TOP_LEVEL_HANDLED.has(key)) continue;
    if (key === 'lint' && isTable(value)) options.lint = Object.fromEntries(Object.entries(value).filter(([k]) => !LINT_HANDLED.has(k)));
    else if (key === 'format' && isTable(value)) options.format = Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'exclude'));
    else options[key] = value;
  }
  return options;
}

/** `child` over `base`: tables merge key by key, anything else is replaced; a few lint lists add up. */
function mergeOptions(base: Record<string, unknown>, child: Record<string, unknown>, path = ''): Record<string, unknown> {
  const merged: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(child)) {
    const before = merged[key];
    if (isTable(before) && isTable(value)) merged[key] = mergeOptions(before, value, `${path}${key}.`);
    else if (path === 'lint.' && LINT_ACCUMULATED.has(key) && Array.isArray(before) && Array.isArray(value)) merged[key] = [...before, ...value];
    else merged[key] = value;
  }
  return merged;
}

/** A TOML table (a plain object), as opposed to a value or an array. */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Ruff applies each file's selection in turn, the later overriding the earlier; within one selection the
 * more specific selector wins (E501 over E) and an ignore wins over a select of the same selector. Folding
 * the layers into one selection therefore drops an earlier ignore that a later select covers, and ignores
 * again an earlier select that a later ignore covers, so that specificity cannot undo the later file's word.
 * A layer with `select` starts afresh (its ignores carry over when it selects nothing, as in Ruff).
 */
export function foldSelections(layers: readonly Selection[]): Selection {
  let select: readonly string[] | undefined;
  let extendSelect: string[] = [];
  let ignore: string[] = [];
  let carried: readonly string[] = [];
  for (const layer of layers) {
    if (layer.select !== undefined) {
      select = layer.select;
      extendSelect = [...layer.extendSelect];
      ignore = [...layer.ignore, ...carried];
      carried = layer.select.length === 0 && layer.extendSelect.length === 0 ? layer.ignore : [];
      continue;
    }
    const positives = [...(select ?? []), ...extendSelect];
    const overridden = positives.filter((p) => !layer.extendSelect.includes(p) && layer.ignore.some((n) => covers(n, p)));
    ignore = ignore.filter((n) => !layer.extendSelect.some((p) => covers(p, n)));
    extendSelect = [...extendSelect, ...layer.extendSelect];
    ignore = [...ignore, ...layer.ignore, ...overridden, ...carried];
    carried = [];
  }
  return { ...(select !== undefined ? { select } : {}), extendSelect: unique(extendSelect), ignore: unique(ignore) };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}

/**
 * Whether every rule `inner` selects is also selected by `outer`: `ALL` covers everything; otherwise the
 * letters must name the same linter (E is not ERA, PT is not PTH) and the digits of `outer` must start
 * those of `inner` (E5 covers E501; C covers C4 and C90). Pylint's `PL` covers PLC, PLE, PLR and PLW.
 */
export function covers(outer: string, inner: string): boolean {
  if (outer === 'ALL') return true;
  if (inner === 'ALL') return false;
  const [outerLetters, outerDigits] = split(outer);
  const [innerLetters, innerDigits] = split(inner);
  if (outerLetters === 'PL' && /^PL[CERW]$/.test(innerLetters) && outerDigits === '') return true;
  return outerLetters === innerLetters && innerDigits.startsWith(outerDigits);
}

function split(selector: string): [string, string] {
  const match = /^([A-Z]+)(\d*)$/.exec(selector);
  return match ? [match[1] ?? '', match[2] ?? ''] : [selector, ''];
}
