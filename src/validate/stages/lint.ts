import type { ValidationConfig } from '../../config/schema.js';
import { sortFindings, stage, type Finding, type StageOutcome } from '../report.js';
import { DEFAULT_LINT } from '../ruff/defaults.js';
import { diagnosticFinding } from '../ruff/findings.js';
import { formatFinding } from '../ruff/format-finding.js';
import { readProjectRuff, type FileRuffSettings } from '../ruff/project-settings.js';
import { isSyntaxDiagnostic, type RuffFileResult, type RuffOptions, type RuffPass, type RuffPassResult, type RuffRequest, type RuffResponse } from '../ruff/ruff-protocol.js';
import { isPythonFile, isTestFile, type SourceFile } from '../source.js';
import { testFileRule } from '../test-files.js';
import { securityOutcome, securityPasses } from './security.js';

/** What the stages need of Ruff; RuffHost is one. */
export interface RuffRunner {
  lint(request: RuffRequest): Promise<RuffResponse>;
}

export interface RuffStages {
  readonly lint: StageOutcome;
  readonly security: StageOutcome;
}

const MAX_FINDINGS = 500;

/** A lint pass and where its settings come from, to name the file when Ruff refuses them. */
interface PlannedPass {
  readonly pass: RuffPass;
  readonly source: string | null;
}

/**
 * The lint and security stages, from one request to Ruff. Lint follows the repository's Ruff settings
 * (project-settings.ts), one pass per distinct set of options; security keeps Code4Py's own rules.
 */
export async function runRuffStages(files: readonly SourceFile[], ruff: RuffRunner, config: ValidationConfig): Promise<RuffStages> {
  const python = files.filter((f) => isPythonFile(f.path));
  if (python.length === 0) return { lint: stage('lint', 'skipped', 'no Python files'), security: stage('security', 'skipped', 'no Python files') };
  const readable = python.flatMap((f) => (f.text === null ? [] : [{ path: f.path, text: f.text }]));
  const notes: Finding[] = python
    .filter((f) => f.text === null)
    .map((f) => ({ path: f.path, line: 0, rule: 'not-checked', message: 'not checked: the file is not UTF-8 text', severity: 'info' }));
  const project = readProjectRuff(files, config.lint);
  const settings = new Map(readable.map((f) => [f.path, project.settingsFor(f.path)]));
  const problems = project.problems;
  const planned = problems.length > 0 ? [] : lintPasses(settings, config);
  const paths = readable.map((f) => f.path);
  const targetOf = (path: string): string => settings.get(path)?.targetVersion ?? '';
  const tests = testFileRule(files);
  const security = securityPasses(
    paths.filter((p) => !isTestFile(p, tests)),
    paths.filter((p) => isTestFile(p, tests)),
    targetOf,
    config,
  );
  const request: RuffRequest = { files: readable, passes: [...planned.map((p) => p.pass), ...security] };

  let response: RuffResponse;
  try {
    response = await ruff.lint(request);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { lint: stage('lint', 'error', why, notes), security: stage('security', 'error', why) };
  }
  if (response.passes.length !== request.passes.length) throw new Error(`Ruff answered ${response.passes.length} passes for ${request.passes.length}`);
  const lintResults = response.passes.slice(0, planned.length);
  const broken = syntaxBroken(response.passes);
  const excluded = [...settings.values()].filter((s) => s.lintExcluded !== null).length;
  const context = { checked: readable.length - excluded, excluded, broken, notes, unreadable: notes.length, version: response.version, texts: new Map(readable.map((f) => [f.path, f.text])) };
  const lint =
    problems.length > 0
      ? stage('lint', 'error', `the repository's Ruff settings cannot be used: ${problems.map((p) => p.message).join('; ')}`, [
          ...problems.map((p): Finding => ({ path: p.file, line: 0, rule: 'ruff-config', message: p.message, severity: 'error' })),
          ...notes,
        ])
      : lintOutcome(planned, lintResults, context, config, settingsNote([...settings.values()], config));
  return { lint, security: securityOutcome(response.passes.slice(planned.length), context, config) };
}

/** Files with the same options (the same object: readProjectRuff shares them) share a pass; excluded files are not linted. */
function lintPasses(settings: ReadonlyMap<string, FileRuffSettings>, config: ValidationConfig): PlannedPass[] {
  const report = config.lint.format ?? DEFAULT_LINT.format;
  const groups = new Map<RuffOptions, Map<boolean, PlannedPass & { pass: { paths: string[] } }>>();
  const passes: PlannedPass[] = [];
  for (const [path, file] of settings) {
    if (file.lintExcluded !== null) continue;
    const format = report && !file.formatExcluded;
    const byFormat = groups.get(file.options) ?? new Map<boolean, PlannedPass & { pass: { paths: string[] } }>();
    groups.set(file.options, byFormat);
    const group = byFormat.get(format);
    if (group) group.pass.paths.push(path);
    else {
      const planned = { pass: { options: file.options, paths: [path], format }, source: file.source };
      byFormat.set(format, planned);
      passes.push(planned);
    }
  }
  return passes;
}

// The syntax stage reports these files with Python's own parser; Ruff's findings on a partial parse would be noise.
function syntaxBroken(passes: readonly RuffPassResult[]): Set<string> {
  const broken = new Set<string>();
  for (const pass of passes) if (pass.ok) for (const file of pass.files) if (file.diagnostics.some(isSyntaxDiagnostic)) broken.add(file.path);
  return broken;
}

interface LintContext {
  readonly checked: number;
  readonly excluded: number;
  readonly broken: ReadonlySet<string>;
  readonly notes: readonly Finding[];
  readonly version: string;
  readonly texts: ReadonlyMap<string, string>;
}

function lintOutcome(planned: readonly PlannedPass[], results: readonly RuffPassResult[], context: LintContext, config: ValidationConfig, settingsNote: string): StageOutcome {
  const fail = config.lint.fail ?? DEFAULT_LINT.fail;
  const severity = fail ? 'error' : 'warning';
  const findings: Finding[] = [];
  for (const [i, result] of results.entries()) {
    if (!result.ok) return stage('lint', 'error', refusal(planned[i]?.source ?? null, result.error, config), [...context.notes]);
    for (const file of result.files) {
      if (context.broken.has(file.path)) continue;
      findings.push(...fileFindings(file, context.texts.get(file.path) ?? '', severity));
    }
  }
  const affected = new Set(findings.map((f) => f.path)).size;
  const shown = sortFindings(findings).slice(0, MAX_FINDINGS);
  const status = findings.length === 0 ? 'passed' : fail ? 'failed' : 'warning';
  const files = `${context.checked} ${context.checked === 1 ? 'file' : 'files'}`;
  const counted = findings.length === 0 ? `no findings in ${files}` : `${findings.length} ${findings.length === 1 ? 'finding' : 'findings'} in ${affected} of ${files}`;
  const extras = [
    findings.length > shown.length ? `the first ${MAX_FINDINGS} shown` : '',
    context.excluded > 0 ? `${context.excluded} excluded by the Ruff settings` : '',
    context.broken.size > 0 ? `${context.broken.size} with syntax errors not checked` : '',
  ].filter(Boolean);
  const summary = `${counted}${extras.length > 0 ? `; ${extras.join('; ')}` : ''} (Ruff ${context.version}, ${settingsNote})`;
  return stage('lint', status, summary, [...shown, ...context.notes]);
}

/** Ruff's reason, with the file (or code4py.yml key) whose setting it refused. */
function refusal(source: string | null, error: string, config: ValidationConfig): string {
  const named = [...error.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
  const fromOurs = named.find((n) => n !== undefined && (config.lint.select?.includes(n) || config.lint.ignore?.includes(n)));
  if (fromOurs) return `Ruff refused lint.select / lint.ignore of the Code4Py config: ${error}`;
  return source ? `Ruff refused the settings of ${source}: ${error}` : `Ruff refused the lint settings (lint.select, lint.ignore): ${error}`;
}

/** Where the settings came from, for the summary. */
function settingsNote(settings: readonly FileRuffSettings[], config: ValidationConfig): string {
  const sources = [...new Set(settings.filter((s) => s.lintExcluded === null).map((s) => s.source))];
  const named = sources.filter((s): s is string => s !== null);
  const from = named.length === 0 ? "Code4Py's default rules" : `settings of ${named.join(', ')}${sources.includes(null) ? " and Code4Py's defaults elsewhere" : ''}`;
  const keys = (['select', 'ignore', 'line_length'] as const).filter((k) => config.lint[k] !== undefined).map((k) => `lint.${k}`);
  return keys.length > 0 ? `${from}, with ${keys.join(', ')} of the Code4Py config` : from;
}

function fileFindings(file: RuffFileResult, text: string, severity: 'error' | 'warning'): Finding[] {
  if (file.error !== null) return [{ path: file.path, line: 0, rule: 'ruff-error', message: `Ruff could not check this file: ${file.error}`, severity }];
  const findings: Finding[] = [];
  for (const d of file.diagnostics) {
    // The security stage owns flake8-bandit (S<n>), even when lint.select names it; not SIM, SLF, ….
    if (d.code === null || isSyntaxDiagnostic(d) || /^S\d/.test(d.code)) continue;
    findings.push(diagnosticFinding(file.path, { ...d, code: d.code }, severity));
  }
  if (file.formatted !== null) findings.push(formatFinding(file.path, text, file.formatted, severity));
  return findings;
}
