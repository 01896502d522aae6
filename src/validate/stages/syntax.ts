import { z } from 'zod';
import { parseJsonOrNull } from '../../json.js';
import { stage, type Finding, type StageOutcome } from '../report.js';
import type { ImportRecord } from '../source.js';

const AnalysisSchema = z.object({
  python: z.string(),
  files: z.array(
    z.object({
      path: z.string(),
      error: z
        .object({
          line: z.number().int(),
          column: z.number().int(),
          endLine: z.number().int().nullable(),
          message: z.string(),
          text: z.string(),
          kind: z.string(),
        })
        .nullable(),
      imports: z.array(
        z.object({ line: z.number().int(), module: z.string(), level: z.number().int(), optional: z.boolean(), typeChecking: z.boolean() }),
      ),
      defs: z.array(z.object({ name: z.string(), line: z.number().int(), end: z.number().int() })).optional(),
    }),
  ),
});

/** Where each function and method of a test file is defined: path → [{name: `Class.method`, line, end}]. */
export type Definitions = ReadonlyMap<string, ReadonlyArray<{ readonly name: string; readonly line: number; readonly end: number }>>;

export interface Analysis {
  readonly syntax: StageOutcome;
  readonly imports: readonly ImportRecord[];
  readonly defs: Definitions;
  /** False when the analysis itself could not run: the imports are then unknown. */
  readonly ran: boolean;
}

/**
 * The syntax stage, from what python/validate.py found with Python's own parser inside the sandbox (a
 * crafted file must not reach a parser running with the bot's rights), before any code under validation
 * ran: it is written to a channel that code cannot reach. Also returns the imports for the dependency check.
 */
export function readAnalysis(channel: string, notes: readonly Finding[], failure: string): Analysis {
  const parsed = AnalysisSchema.safeParse(parseJsonOrNull(channel));
  if (!parsed.success) {
    return { syntax: stage('syntax', 'error', `Python's parser could not be run in the sandbox: ${failure}`, [...notes]), imports: [], defs: new Map(), ran: false };
  }
  const findings: Finding[] = [...notes];
  const imports: ImportRecord[] = [];
  const defs = new Map<string, Array<{ name: string; line: number; end: number }>>();
  for (const file of parsed.data.files) {
    if (file.defs) defs.set(file.path, file.defs);
    if (file.error) {
      findings.push({
        path: file.path,
        line: file.error.line,
        column: file.error.column,
        ...(file.error.endLine ? { endLine: file.error.endLine } : {}),
        rule: file.error.kind === 'ValueError' ? 'invalid-source' : 'syntax-error',
        message: `${file.error.kind}: ${file.error.message}`,
        severity: 'error',
        ...(file.error.text ? { details: file.error.text } : {}),
      });
    }
    for (const entry of file.imports) imports.push({ path: file.path, ...entry });
  }
  const pythonFiles = parsed.data.files.length;
  const broken = new Set(findings.filter((f) => f.severity === 'error').map((f) => f.path)).size;
  const summary =
    pythonFiles === 0
      ? 'no Python files'
      : broken === 0
        ? `${pythonFiles} Python ${plural(pythonFiles, 'file')} parse with Python ${parsed.data.python}`
        : `${broken} of ${pythonFiles} Python ${plural(pythonFiles, 'file')} cannot be validated`;
  const status = broken > 0 || pythonFiles === 0 ? 'failed' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'passed';
  return { syntax: stage('syntax', status, summary, findings), imports, defs, ran: true };
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
