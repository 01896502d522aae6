import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { InputFile } from '../validate/workspace.js';

/** One problem of a HumanEval-style JSONL file. */
export const ProblemSchema = z.object({
  task_id: z.string().min(1),
  prompt: z.string(),
  entry_point: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Python function name'),
  canonical_solution: z.string().optional(),
  test: z.string(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/** Reads a `.jsonl` or `.jsonl.gz` file of problems; a bad line is named with its number and problem. */
export async function readProblems(path: string): Promise<Problem[]> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  return text
    .split('\n')
    .map((line, index) => ({ line: line.trim(), number: index + 1 }))
    .filter(({ line }) => line.length > 0)
    .map(({ line, number }) => {
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        throw new UsageError(`${path} line ${number} is not JSON`);
      }
      const parsed = ProblemSchema.safeParse(value);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        throw new UsageError(`${path} line ${number}: ${issue?.path.join('.')}: ${issue?.message}`);
      }
      return parsed.data;
    });
}

/**
 * The problem as a project: `solution.py` (the prompt and a solution body) and `test_solution.py`, which
 * wraps the problem's `check` as a pytest test of the entry point.
 */
export function problemFiles(problem: Problem, solution: string = problem.prompt + (problem.canonical_solution ?? '')): InputFile[] {
  const test = [
    // Some checks call helpers the prompt defines (HumanEval/32 calls `poly`), so all public names come in.
    'from solution import *  # noqa: F403',
    `from solution import ${problem.entry_point}`,
    '',
    problem.test.trim(),
    '',
    '',
    `def test_${problem.entry_point}():`,
    `    check(${problem.entry_point})`,
    '',
  ].join('\n');
  return [
    { path: 'solution.py', content: Buffer.from(solution) },
    { path: 'test_solution.py', content: Buffer.from(test) },
  ];
}
