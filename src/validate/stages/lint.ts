import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import type { ValidationConfig } from '../../config/schema.js';
import { sortFindings, stage, type Finding, type StageOutcome } from '../report.js';
import { isSyntaxDiagnostic, type RuffFileResult, type RuffPassResult, type RuffRequest, type RuffResponse } from '../ruff/ruff-protocol.js';
import { isPythonFile, isTestFile, type SourceFile } from '../source.js';
import { diagnosticFinding } from '../ruff/findings.js';
import { localModules } from './import-names.js';
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
const MAX_DIFF_LINES = 80;

/** The lint and security stages, from one request to Ruff (three passes over the same texts). */
export async function runRuffStages(files: readonly SourceFile[], ruff: RuffRunner, config: ValidationConfig): Promise<RuffStages> {
  const python = files.filter((f) => isPythonFile(f.path));
  if (python.length === 0) return { lint: stage('lint', 'skipped', 'no Python files'), security: stage('security', 'skipped', 'no Python files') };
  const readable = python.flatMap((f) => (f.text === null ? [] : [{ path: f.path, text: f.text }]));
  const notes: Finding[] = python
    .filter((f) => f.text === null)
    .map((f) => ({ path: f.path, line: 0, rule: 'not-checked', message: 'not checked: the file is not UTF-8 text', severity: 'info' }));
  const paths = readable.map((f) => f.path);
  const request: RuffRequest = {
    files: readable,
    passes: [
      {
        settings: {
          select: [...config.lint.select],
          ignore: [...config.lint.ignore],
          lineLength: config.lint.line_length,
          knownFirstParty: [...localModules(files)].sort(),
        },
        paths,
        format: config.lint.format,
      },
      ...securityPasses(
        paths.filter((p) => !isTestFile(p)),
        paths.filter((p) => isTestFile(p)),
        config,
      ),
    ],
  };

  let response: RuffResponse;
  try {
    response = await ruff.lint(request);
  } catch (error) {
    const why = error instanceof Error ? error.message : String(error);
    return { lint: stage('lint', 'error', why, notes), security: stage('security', 'error', why) };
  }
  const [lintPass, ...security] = response.passes;
  if (!lintPass) throw new Error(`Ruff answered ${response.passes.length} passes for ${request.passes.length}`);
  const broken = syntaxBroken(response.passes);
  const context = { checked: readable.length, broken, notes, unreadable: notes.length, version: response.version, texts: new Map(readable.map((f) => [f.path, f.text])) };
  return { lint: lintOutcome(lintPass, context, config), security: securityOutcome(security, context, config) };
}

// The syntax stage reports these files with Python's own parser; Ruff's findings on a partial parse would be noise.
function syntaxBroken(passes: readonly RuffPassResult[]): Set<string> {
  const broken = new Set<string>();
  for (const pass of passes) if (pass.ok) for (const file of pass.files) if (file.diagnostics.some(isSyntaxDiagnostic)) broken.add(file.path);
  return broken;
}

interface LintContext {
  readonly checked: number;
  readonly broken: ReadonlySet<string>;
  readonly notes: readonly Finding[];
  readonly version: string;
  readonly texts: ReadonlyMap<string, string>;
}

function lintOutcome(result: RuffPassResult, context: LintContext, config: ValidationConfig): StageOutcome {
  if (!result.ok) return stage('lint', 'error', `Ruff refused the lint settings (lint.select, lint.ignore): ${result.error}`, [...context.notes]);
  const severity = config.lint.fail ? 'error' : 'warning';
  const findings: Finding[] = [];
  for (const file of result.files) {
    if (context.broken.has(file.path)) continue;
    findings.push(...fileFindings(file, context.texts.get(file.path) ?? '', severity));
  }
  const affected = new Set(findings.map((f) => f.path)).size;
  const shown = sortFindings(findings).slice(0, MAX_FINDINGS);
  const status = findings.length === 0 ? 'passed' : config.lint.fail ? 'failed' : 'warning';
  const files = `${context.checked} ${context.checked === 1 ? 'file' : 'files'}`;
  const counted = findings.length === 0 ? `no findings in ${files}` : `${findings.length} ${findings.length === 1 ? 'finding' : 'findings'} in ${affected} of ${files}`;
  const extras = [
    findings.length > shown.length ? `the first ${MAX_FINDINGS} shown` : '',
    context.broken.size > 0 ? `${context.broken.size} with syntax errors not checked` : '',
  ].filter(Boolean);
  const summary = `${counted}${extras.length > 0 ? `; ${extras.join('; ')}` : ''} (Ruff ${context.version})`;
  return stage('lint', status, summary, [...shown, ...context.notes]);
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

/** One finding per file, at the first line `ruff format` changes, with the diff to apply. */
export function formatFinding(path: string, before: string, after: string, severity: Finding['severity']): Finding {
  const patch = structuredPatch(path, path, before, after, '', '', { context: 2 });
  const first = patch.hunks[0];
  let line = first?.oldStart ?? 1;
  for (const change of first?.lines ?? []) {
    if (!change.startsWith(' ')) break;
    line++;
  }
  const count = (lines: readonly string[], sign: string): number => lines.filter((l) => l.startsWith(sign)).length;
  const changed = patch.hunks.reduce((n, h) => n + Math.max(count(h.lines, '-'), count(h.lines, '+')), 0);
  const diff = formatPatch(patch, FILE_HEADERS_ONLY).trimEnd().split('\n');
  const shown = diff.length > MAX_DIFF_LINES ? [...diff.slice(0, MAX_DIFF_LINES), `… ${diff.length - MAX_DIFF_LINES} more diff lines`] : diff;
  return {
    path,
    line: Math.max(1, line),
    rule: 'format',
    message: `\`ruff format\` would reformat this file (${changed} ${changed === 1 ? 'line' : 'lines'} changed)`,
    severity,
    details: shown.join('\n'),
  };
}
