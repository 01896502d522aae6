import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { gunzipSync } from 'node:zlib';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { TaskText } from '../llm/index.js';
import type { InputFile } from '../validate/workspace.js';

/** The module the problems' tests import the function from: `solution.py` at the root. */
export const SOLUTION_PATH = 'solution.py';

/** One problem of a HumanEval-style JSONL file. */
const ProblemSchema = z.object({
  task_id: z.string().min(1),
  prompt: z.string(),
  entry_point: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'a Python function name'),
  canonical_solution: z.string().optional(),
  test: z.string(),
});
export type Problem = z.infer<typeof ProblemSchema>;

/** Reads a `.jsonl` or `.jsonl.gz` file of problems; a bad line is named with its number and problem. */
export async function readProblems(path: string): Promise<Problem[]> {
  return (await readProblemFile(path)).problems;
}

/** The problems of a data file, and the file's sha256 (which a report names and a result cache is keyed by). */
export async function readProblemFile(path: string): Promise<{ problems: Problem[]; sha256: string }> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  const text = path.endsWith('.gz') ? gunzipSync(raw).toString('utf8') : raw.toString('utf8');
  const problems = text
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
  return { problems, sha256: createHash('sha256').update(raw).digest('hex') };
}

/**
 * The problem as a project: `solution.py` (the prompt and a solution body) and `test_solution.py`, which
 * wraps the problem's `check` as a pytest test of the entry point.
 */
export function problemFiles(problem: Problem, solution: string = problem.prompt + (problem.canonical_solution ?? '')): InputFile[] {
  return [{ path: SOLUTION_PATH, content: Buffer.from(solution) }, hiddenTests(problem)];
}

/** The problem's own tests (`check`) as a pytest file that imports the entry point from `solution.py`. */
export function hiddenTests(problem: Problem): InputFile {
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
  return { path: 'test_solution.py', content: Buffer.from(test) };
}

/**
 * The problem as the task the pipeline gets: the prompt (signature and docstring) to complete, and, as the
 * instructions a maintainer would add, where the code must go for the hidden tests to import it. The
 * tests themselves are never shown.
 */
export function problemTask(problem: Problem): TaskText {
  const longest = Math.max(2, ...[...problem.prompt.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return {
    title: `Implement ${problem.entry_point}`,
    body: [
      `Complete the Python function \`${problem.entry_point}\` below: keep its name, its signature and any helper defined with it, and make it do what its docstring says.`,
      '',
      `${fence}python`,
      problem.prompt.trimEnd(),
      fence,
    ].join('\n'),
    comments: [],
    instructions: `Put the code in a module \`${SOLUTION_PATH}\` at the root of the repository, so that \`from solution import ${problem.entry_point}\` works, and write its pytest tests in a separate test file.`,
  };
}
