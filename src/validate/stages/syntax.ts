import { z } from 'zod';
import { parseJsonOrNull } from '../json.js';
import type { Sandbox } from '../../sandbox/types.js';
import { pythonScript } from '../python-scripts.js';
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
    }),
  ),
});

export interface Analysis {
  readonly syntax: StageOutcome;
  readonly imports: readonly ImportRecord[];
  /** False when the analysis itself could not run: the imports are then unknown. */
  readonly ran: boolean;
}

/**
 * Parses every Python file with Python's own parser, inside the sandbox (a crafted file must not reach a
 * parser running with the bot's rights), and collects the imports for the dependency check.
 */
export async function analyse(sandbox: Sandbox, workDir: string, notes: readonly Finding[], signal?: AbortSignal): Promise<Analysis> {
  const result = await sandbox.run({
    command: ['python', '-I', '-c', pythonScript('analyse')],
    workDir,
    limits: { wallTimeMs: 60_000, outputBytes: 64 * 1024 * 1024 },
    signal,
  });
  const parsed = result.exitCode === 0 && !result.stdoutTruncated ? AnalysisSchema.safeParse(parseJsonOrNull(result.stdout)) : null;
  if (!parsed?.success) {
    const why = result.timedOut ? 'it timed out' : (result.stderr.trim().split('\n').at(-1) ?? `exit ${result.exitCode}`);
    return { syntax: stage('syntax', 'error', `Python's parser could not be run in the sandbox: ${why}`, [...notes]), imports: [], ran: false };
  }
  const findings: Finding[] = [...notes];
  const imports: ImportRecord[] = [];
  for (const file of parsed.data.files) {
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
  return { syntax: stage('syntax', status, summary, findings), imports, ran: true };
}

export function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
