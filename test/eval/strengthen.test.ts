import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hiddenTests, SOLUTION_PATH } from '../../src/eval/humaneval.js';
import { EvalReportSchema, type EvalReport } from '../../src/eval/report.js';
import type { Solution } from '../../src/llm/index.js';
import { runCli } from '../helpers/cli.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { firstProblems, HUMANEVAL } from './canonical.js';

/*
 * The test-strengthening round measured by the eval, against a scripted model: HumanEval/0 answered with the
 * canonical code and one weak test, then, asked about the mutants that survive it, with the problem's own
 * checks as tests. The report gives the mutation score before and after the round.
 */
const API_KEY = 'sk-test-eval-strengthen-0123456789abcdef';
let dir: string;
let report: EvalReport;
let strengtheningPrompts: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-eval-strengthen-'));
  const [problem] = await firstProblems(1);
  const code = problem!.prompt + (problem!.canonical_solution ?? '');
  const weak: Solution = {
    summary: 'has_close_elements with a test',
    files: [
      { path: SOLUTION_PATH, content: code, patch: null },
      { path: 'test_solution.py', content: 'from solution import has_close_elements\n\n\ndef test_close():\n    assert has_close_elements([1.0, 2.0, 2.05], 0.1)\n', patch: null },
    ],
    dependencies: [],
  };
  const checks = hiddenTests(problem!);
  const strong: Solution = { summary: 'stronger tests', files: [{ path: 'test_solution.py', content: checks.content.toString('utf8'), patch: null }], dependencies: [] };
  const server = await new FakeModelServer().start();
  server
    .script('code4py_analysis', { intent: 'algorithm', title: 'has_close_elements', module: 'solution', requirements: ['as its docstring says'], assumptions: [], needs_clarification: false, questions: [] })
    .script('code4py_solution', weak)
    .script('code4py_strengthen', strong);
  const out = join(dir, 'report.json');
  const run = await runCli(['eval', HUMANEVAL, '--limit', '1', '--attempts', '1', '--concurrency', '1', '--out', out, '--model', 'fake-model', '--fresh'], {
    ...process.env,
    OPENAI_BASE_URL: server.baseUrl,
    OPENAI_API_KEY: API_KEY,
    CODE4PY_CACHE_DIR: join(dir, 'cache'),
  });
  expect(run.code, run.stderr).toBe(0);
  strengtheningPrompts = server.prompts('code4py_strengthen');
  await server.stop();
  report = EvalReportSchema.parse(JSON.parse(await readFile(out, 'utf8')));
}, 300_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('code4py eval and the test-strengthening round', () => {
  it('asks for stronger tests naming the surviving mutants, and reports the mutation score before and after', () => {
    expect(strengtheningPrompts).toHaveLength(1);
    expect(strengtheningPrompts[0]).toMatch(/no test fails when line \d+ `.*` becomes `.*`/);
    const [result] = report.results;
    // The round strengthened the one attempt: it is not an attempt of its own.
    expect(result).toMatchObject({ taskId: 'HumanEval/0', passedFinal: true, attempts: 1, mutation: { strengthened: true } });
    expect(result!.mutation.before).toBeLessThan(result!.mutation.after!);
    expect(report.mutation).toMatchObject({ problems: 1, strengthened: 1, meanBefore: result!.mutation.before, meanAfter: result!.mutation.after });
  });
});
