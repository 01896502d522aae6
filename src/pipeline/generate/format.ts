import type { ValidationConfig } from '../../config/schema.js';
import type { SolutionFile } from '../../llm/index.js';
import { DEFAULT_LINT } from '../../validate/ruff/defaults.js';
import { readProjectRuff, type FileRuffSettings } from '../../validate/ruff/project-settings.js';
import { isSyntaxDiagnostic, type RuffFileResult, type RuffPass, type RuffResponse } from '../../validate/ruff/ruff-protocol.js';
import { applySafeFixes } from '../../validate/ruff/safe-fixes.js';
import type { RuffRunner } from '../../validate/stages/lint.js';
import { decodeText } from '../../validate/workspace.js';

/** Format, then fix, as many times as it takes to settle; a pair of rules that undo each other stops here. */
const MAX_ROUNDS = 8;

interface Target {
  readonly path: string;
  readonly settings: FileRuffSettings;
  text: string;
  /** The last text Ruff parsed: where a fix that broke the code goes back to. */
  good: string;
  /** Fixes that broke the code together are then applied one at a time; one that breaks it alone ends fixing. */
  mode: 'all' | 'one' | 'done';
}

/**
 * The generated Python files as `ruff format` and `ruff check --fix` (safe fixes only) would leave them,
 * with the repository's Ruff settings (the same as the lint stage's: project-settings.ts): formatted, then
 * fixed, repeated until nothing changes, so the bot's own files carry no "would reformat" and no fixable
 * finding. A file that does not parse is left as it is (the syntax stage reports it); so is one the
 * repository's settings exclude, or whose settings cannot be read (the lint stage reports that), and an
 * existing file that Ruff would change on the base already (its own code is not rewritten). Nothing else
 * is touched. Ruff failing altogether leaves every file as the model wrote it.
 */
export async function formatGenerated(
  files: readonly SolutionFile[],
  projectFiles: ReadonlyMap<string, Buffer>,
  config: ValidationConfig,
  ruff: RuffRunner,
): Promise<SolutionFile[]> {
  const project = readProjectRuff(settingsInputs(files, projectFiles), config.lint);
  const format = config.lint.format ?? DEFAULT_LINT.format;
  const targets: Target[] = [];
  for (const file of files) {
    if (!file.path.endsWith('.py') || file.content === null) continue;
    const settings = project.settingsFor(file.path);
    if (settings.problem !== null || (settings.lintExcluded !== null && (settings.formatExcluded || !format))) continue;
    targets.push({ path: file.path, settings, text: file.content, good: file.content, mode: 'all' });
  }
  if (targets.length === 0) return [...files];
  let tidy: Target[];
  try {
    tidy = await withoutRewrites(targets, projectFiles, format, ruff);
    await settle(tidy, format, ruff);
  } catch {
    return [...files];
  }
  const tidied = new Map(tidy.map((t) => [t.path, t.text]));
  return files.map((file) => (tidied.has(file.path) ? { ...file, content: tidied.get(file.path) ?? file.content } : file));
}

/**
 * The targets that may be tidied: new files, and files of the repository that Ruff would leave as they are
 * on the base (formatted, no safe fix left). Tidying a file the repository keeps otherwise would rewrite its
 * own code, far from the change, and bury the change in the pull request's diff.
 */
async function withoutRewrites(targets: readonly Target[], projectFiles: ReadonlyMap<string, Buffer>, format: boolean, ruff: RuffRunner): Promise<Target[]> {
  const bases = new Map<string, string | null>();
  for (const target of targets) {
    const base = projectFiles.get(target.path);
    if (base !== undefined) bases.set(target.path, decodeText(base));
  }
  const probes: Target[] = [];
  for (const target of targets) {
    const base = bases.get(target.path);
    if (typeof base === 'string') probes.push({ ...target, text: base, good: base, mode: 'all' });
  }
  if (probes.length > 0) await settle(probes, format, ruff);
  // A base Ruff cannot parse ends 'done'; one it would change ends with another text.
  const clean = new Set(probes.filter((p) => p.mode !== 'done' && p.text === bases.get(p.path)).map((p) => p.path));
  return targets.filter((t) => !bases.has(t.path) || clean.has(t.path));
}

async function settle(targets: Target[], format: boolean, ruff: RuffRunner): Promise<void> {
  let live = targets;
  let fixed = false;
  for (let round = 0; round < MAX_ROUNDS && live.length > 0; round++) {
    if (format) live = await formatAll(live, ruff);
    fixed = await fixAll(live, ruff);
    live = live.filter((t) => t.mode !== 'done');
    if (!fixed) return;
  }
  // Out of rounds right after a fix: end formatted, or on the last text Ruff parsed.
  if (fixed && format) await formatAll(live, ruff);
}

/** `ruff format` on every target; one that does not parse goes back to its last good text and is dropped. */
async function formatAll(targets: readonly Target[], ruff: RuffRunner): Promise<Target[]> {
  const formattable = targets.filter((t) => !t.settings.formatExcluded);
  const response = await ruff.lint(request(formattable, (t) => ({ options: t.settings.options, format: true, check: false })));
  const kept: Target[] = [...targets.filter((t) => t.settings.formatExcluded)];
  for (const [target, result] of zip(formattable, response)) {
    if (result.error !== null) {
      failed(target);
      if (target.mode === 'done') continue;
    } else if (result.formatted !== null) target.text = result.formatted;
    kept.push(target);
  }
  return kept;
}

/** `ruff check` on every target and its safe fixes applied; whether any text changed. */
async function fixAll(targets: readonly Target[], ruff: RuffRunner): Promise<boolean> {
  const checkable = targets.filter((t) => t.settings.lintExcluded === null && t.mode !== 'done');
  const response = await ruff.lint(request(checkable, (t) => ({ options: t.settings.options, format: false })));
  let changed = false;
  for (const [target, result] of zip(checkable, response)) {
    if (result.error !== null || result.diagnostics.some(isSyntaxDiagnostic)) {
      failed(target);
      continue;
    }
    target.good = target.text;
    const options = target.settings.options;
    const lint = typeof options.lint === 'object' && options.lint !== null ? (options.lint as Record<string, unknown>) : {};
    const context = { path: target.path, targetVersion: target.settings.targetVersion, preview: options.preview === true || lint.preview === true };
    const fixes = applySafeFixes(target.text, result.diagnostics, context, target.mode === 'one' ? 1 : Infinity);
    if (fixes.applied.length > 0 && fixes.text !== target.text) {
      target.text = fixes.text;
      changed = true;
    }
  }
  return changed;
}

/** Ruff could not parse the text: the model's own text is left alone; a fix that broke it is undone. */
function failed(target: Target): void {
  const fixedBefore = target.text !== target.good;
  target.text = target.good;
  target.mode = fixedBefore && target.mode === 'all' ? 'one' : 'done';
}

/** One pass per set of options (readProjectRuff shares one object among the files it applies to), as the lint stage groups them. */
function request(targets: readonly Target[], passOf: (t: Target) => Omit<RuffPass, 'paths'>): { files: Array<{ path: string; text: string }>; passes: RuffPass[] } {
  const passes = new Map<RuffPass['options'], RuffPass & { paths: string[] }>();
  for (const target of targets) {
    const pass = passOf(target);
    const key = pass.options;
    const group = passes.get(key);
    if (group) group.paths.push(target.path);
    else passes.set(key, { ...pass, paths: [target.path] });
  }
  return { files: targets.map((t) => ({ path: t.path, text: t.text })), passes: [...passes.values()] };
}

/** Each target with its result, whichever pass it was in; a pass Ruff refused (bad options) leaves its files out. */
function zip(targets: readonly Target[], response: RuffResponse): Array<[Target, RuffFileResult]> {
  const results = new Map(response.passes.flatMap((pass) => (pass.ok ? pass.files.map((f) => [f.path, f] as const) : [])));
  return targets.flatMap((t): Array<[Target, RuffFileResult]> => {
    const result = results.get(t.path);
    return result ? [[t, result]] : [];
  });
}

/**
 * What readProjectRuff needs of the repository: every path (the code's own module names) and the text of
 * the TOML files (configurations and what they extend), with the generated files over the repository's.
 */
function settingsInputs(files: readonly SolutionFile[], projectFiles: ReadonlyMap<string, Buffer>): Array<{ path: string; text: string | null }> {
  const inputs = new Map<string, string | null>();
  for (const [path, content] of projectFiles) inputs.set(path, path.endsWith('.toml') ? decodeText(content) : null);
  for (const file of files) if (file.content !== null) inputs.set(file.path, file.path.endsWith('.toml') || file.path.endsWith('.py') ? file.content : null);
  return [...inputs].map(([path, text]) => ({ path, text }));
}
