import { posix } from 'node:path';
import type { ValidationConfig } from '../../config/schema.js';
import type { SourceFile } from '../source.js';
import { localModules } from '../stages/import-names.js';
import { combineLayers, foldSelections, isTable, type CombinedConfig, type Selection } from './combine.js';
import { DEFAULT_LINT, RUFF_DEFAULT_TARGET } from './defaults.js';
import { configFileIn, loadConfig, requiresPythonTarget, type TextLookup } from './project-config.js';
import type { RuffOptions } from './ruff-protocol.js';
import { ancestry, builtinMatcher, DEFAULT_EXCLUDE, exclusionMatcher, inclusionMatcher, perFileMatcher, type PathMatcher } from './ruff-globs.js';

// Which Ruff settings apply to each Python file of a repository: Ruff's hierarchical discovery (the nearest
// configuration file at or above the file's folder; nested ones do not inherit unless they `extend`), its
// exclusions, then the `.github/code4py.yml` keys on top. A file's settings become one set of Ruff options.

export type LintOverrides = ValidationConfig['lint'];

export interface FileRuffSettings {
  /** Why Ruff's linter leaves the file out (`exclude`, `extend-exclude`, `include`, `lint.exclude`), or null. */
  readonly lintExcluded: string | null;
  /** Whether `format.exclude` (or an exclusion above) keeps `ruff format` off the file. */
  readonly formatExcluded: boolean;
  /** Ruff's options for this file: the configuration, the code4py.yml keys, and the per-file settings resolved. */
  readonly options: RuffOptions;
  /** The Python version the file is checked for, as Ruff names it (`py311`). */
  readonly targetVersion: string;
  /** The configuration file the settings come from (with what it extends), or null for Code4Py's defaults. */
  readonly source: string | null;
  /** The file's configuration cannot be used (bad TOML, a bad `extend`, …): its settings are unknown. */
  readonly problem: ConfigProblem | null;
}

export interface ConfigProblem {
  readonly file: string;
  readonly message: string;
}

type Broken = ConfigProblem & { readonly kind: 'broken' };

export interface ProjectRuff {
  /** Configuration files Ruff would read for these files that cannot be used; lint must not run on a guess. */
  readonly problems: readonly ConfigProblem[];
  settingsFor(path: string): FileRuffSettings;
}

interface Compiled {
  readonly kind: 'compiled';
  readonly file: string;
  readonly dir: string;
  readonly source: string;
  readonly combined: CombinedConfig;
  readonly exclude: PathMatcher;
  readonly include: PathMatcher;
  /** null when the configuration sets none. */
  readonly lintExclude: PathMatcher | null;
  readonly formatExclude: PathMatcher | null;
  readonly perFileIgnores: ReadonlyArray<{ matches: PathMatcher; selectors: readonly string[] }>;
  readonly perFileTarget: ReadonlyArray<{ matches: PathMatcher; version: string }>;
}

const BUILTIN_EXCLUDE = builtinMatcher(DEFAULT_EXCLUDE);
const ALL_PYTHON: PathMatcher = (path) => path.endsWith('.py');

/** Reads the repository's Ruff settings from its files (configuration files are looked up among them). */
export function readProjectRuff(files: ReadonlyArray<Pick<SourceFile, 'path' | 'text'>>, overrides: LintOverrides): ProjectRuff {
  const texts = new Map(files.map((f) => [f.path, f.text]));
  const text: TextLookup = (path) => texts.get(path);
  const firstParty = [...localModules(files.map((f) => ({ ...f, bytes: 0 })))].sort();
  const problems = new Map<string, ConfigProblem>();
  const configs = new Map<string, Compiled | Broken | null>();
  // Files that share a configuration, per-file ignores and target share one options object (and one Ruff
  // pass): the first-party list alone can hold thousands of names.
  const optionSets = new Map<string, RuffOptions>();
  const optionsFor = (key: string, build: () => RuffOptions): RuffOptions => {
    const known = optionSets.get(key);
    if (known) return known;
    const built = build();
    optionSets.set(key, built);
    return built;
  };
  const fallbacks = new Map<string, string>();
  const fallbackTarget = (dir: string): string => {
    const known = fallbacks.get(dir) ?? requiresPythonTarget(dir, text) ?? RUFF_DEFAULT_TARGET;
    fallbacks.set(dir, known);
    return known;
  };
  const defaults = (path: string, excluded: string | null): FileRuffSettings => {
    const targetVersion = fallbackTarget('');
    const options = optionsFor(`\0defaults\0${targetVersion}`, () => defaultOptions(targetVersion, firstParty, overrides));
    return { lintExcluded: excluded, formatExcluded: excluded !== null, options, targetVersion, source: null, problem: null };
  };
  const nearest = new Map<string, Compiled | Broken | null>();

  const configAt = (dir: string): Compiled | Broken | null => {
    if (configs.has(dir)) return configs.get(dir) ?? null;
    const file = configFileIn(dir, text);
    let compiled: Compiled | Broken | null = null;
    if (file) {
      const loaded = loadConfig(file, text);
      if (loaded.ok) compiled = compile(file, dir, loaded.config.layers.map((l) => l.file), combineLayers(loaded.config.layers));
      else compiled = { kind: 'broken', file, message: loaded.message };
    }
    configs.set(dir, compiled);
    return compiled;
  };
  const nearestTo = (dir: string): Compiled | Broken | null => {
    const known = nearest.get(dir);
    if (known !== undefined) return known;
    const own = configAt(dir);
    const found = own ?? (dir === '' ? null : nearestTo(parentOf(dir)));
    nearest.set(dir, found);
    return found;
  };

  // Ruff walks down from the root and skips a folder (or file) its parent's settings exclude, before reading its configuration.
  const excludedHere = (path: string): boolean => {
    const governing = nearestTo(parentOf(path));
    return governing?.kind === 'compiled' ? governing.exclude(path) : BUILTIN_EXCLUDE(path);
  };
  const excludedDirs = new Map<string, boolean>();
  const dirExcluded = (dir: string): boolean => {
    if (dir === '') return false;
    const known = excludedDirs.get(dir);
    if (known !== undefined) return known;
    const excluded = dirExcluded(parentOf(dir)) || excludedHere(dir);
    excludedDirs.set(dir, excluded);
    return excluded;
  };

  const settingsFor = (path: string): FileRuffSettings => {
    const dir = parentOf(path);
    if (dirExcluded(dir) || excludedHere(path)) return defaults(path, 'exclude');
    const config = nearestTo(dir);
    if (config === null) return defaults(path, null);
    if (config.kind === 'broken') {
      problems.set(config.file, { file: config.file, message: config.message });
      return { ...defaults(path, null), source: config.file, problem: { file: config.file, message: config.message } };
    }
    const steps = config.lintExclude || config.formatExclude ? ancestry(path).filter((step) => config.dir === '' || step.startsWith(`${config.dir}/`)) : [];
    const lintExcluded = !config.include(path) ? 'include' : config.lintExclude && steps.some(config.lintExclude) ? 'lint.exclude' : null;
    const targetVersion = config.perFileTarget.find((entry) => entry.matches(path))?.version ?? config.combined.targetVersion ?? fallbackTarget(config.dir);
    const ignored = config.perFileIgnores.filter((entry) => entry.matches(path)).flatMap((entry) => entry.selectors);
    return {
      lintExcluded,
      formatExcluded: config.formatExclude !== null && steps.some(config.formatExclude),
      options: optionsFor(`${config.file}\0${targetVersion}\0${ignored.join(',')}`, () =>
        ruffOptions(config.combined.options, [...config.combined.selections], ignored, targetVersion, firstParty, overrides, false),
      ),
      targetVersion,
      source: config.source,
      problem: null,
    };
  };
  return {
    get problems() {
      return [...problems.values()];
    },
    settingsFor,
  };
}

function compile(file: string, dir: string, chain: readonly string[], combined: CombinedConfig): Compiled {
  const exclude = combined.exclude ? exclusionMatcher(combined.exclude) : BUILTIN_EXCLUDE;
  const extendExclude = exclusionMatcher(combined.extendExclude);
  const include = combined.include ? inclusionMatcher(combined.include) : ALL_PYTHON;
  const extendInclude = inclusionMatcher(combined.extendInclude);
  return {
    kind: 'compiled',
    file,
    dir,
    source: chain.length > 1 ? `${file} (extending ${chain.slice(1).join(', then ')})` : file,
    combined,
    exclude: (path) => exclude(path) || extendExclude(path),
    include: (path) => include(path) || extendInclude(path),
    lintExclude: combined.lintExclude.length > 0 ? exclusionMatcher(combined.lintExclude) : null,
    formatExclude: combined.formatExclude.length > 0 ? exclusionMatcher(combined.formatExclude) : null,
    perFileIgnores: combined.perFileIgnores.map((entry) => ({ matches: perFileMatcher(entry), selectors: entry.value })),
    perFileTarget: combined.perFileTargetVersion.map((entry) => ({ matches: perFileMatcher(entry), version: entry.value })),
  };
}

/** Ruff's options for a file outside any Ruff configuration: Code4Py's default rules, under the code4py.yml keys. */
function defaultOptions(targetVersion: string, firstParty: readonly string[], overrides: LintOverrides): RuffOptions {
  const selection: Selection = { select: DEFAULT_LINT.select, extendSelect: [], ignore: [] };
  return ruffOptions({ 'line-length': DEFAULT_LINT.lineLength }, [selection], [], targetVersion, firstParty, overrides, true);
}

function ruffOptions(
  base: Record<string, unknown>,
  selections: Selection[],
  ignoredHere: readonly string[],
  targetVersion: string,
  firstParty: readonly string[],
  overrides: LintOverrides,
  ours: boolean,
): RuffOptions {
  // The code4py.yml keys act as Ruff's --select / --ignore / --line-length would: one more layer on top.
  if (overrides.select !== undefined || overrides.ignore !== undefined) {
    selections.push({ ...(overrides.select !== undefined ? { select: overrides.select } : {}), extendSelect: [], ignore: overrides.ignore ?? [] });
  }
  const selection = foldSelections(selections);
  const lint = isTable(base.lint) ? base.lint : {};
  const isort = isTable(lint.isort) ? lint.isort : {};
  const theirs = new Set(['known-third-party', 'known-local-folder', 'extra-standard-library'].flatMap((key) => (Array.isArray(isort[key]) ? (isort[key] as unknown[]) : [])));
  const knownFirstParty = [...new Set([...(Array.isArray(isort['known-first-party']) ? (isort['known-first-party'] as string[]) : []), ...firstParty.filter((m) => !theirs.has(m))])];
  const lineLength = overrides.line_length ?? base['line-length'] ?? (ours ? DEFAULT_LINT.lineLength : undefined);
  return {
    ...base,
    ...(lineLength !== undefined ? { 'line-length': lineLength } : {}),
    'target-version': targetVersion,
    // In preview Ruff names rules (`unused-import`) instead of giving their codes, which Code4Py reports and matches.
    'output-prefer-rule-codes': true,
    lint: {
      ...lint,
      ...(selection.select !== undefined ? { select: selection.select } : {}),
      ...(selection.extendSelect.length > 0 ? { 'extend-select': selection.extendSelect } : {}),
      ...(selection.ignore.length > 0 ? { ignore: selection.ignore } : {}),
      // A Workspace checks a text without a path, whose name `*` matches: the entries matching this file, resolved here.
      ...(ignoredHere.length > 0 ? { 'per-file-ignores': { '*': [...new Set(ignoredHere)] } } : {}),
      ...(knownFirstParty.length > 0 ? { isort: { ...isort, 'known-first-party': knownFirstParty } } : {}),
    },
  };
}

function parentOf(path: string): string {
  const dir = posix.dirname(path);
  return dir === '.' ? '' : dir;
}
