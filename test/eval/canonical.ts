import { join } from 'node:path';
import { hiddenTests, readProblems, SOLUTION_PATH, type Problem } from '../../src/eval/humaneval.js';
import type { Analysis, Solution } from '../../src/llm/index.js';
import type { FakeModelServer, ScriptedAnswer } from '../helpers/fake-model.js';

/** The first 12 problems of HumanEval (MIT licence, openai/human-eval), kept in the repository so tests need nothing beside it. */
export const HUMANEVAL = join(process.cwd(), 'test', 'fixtures', 'humaneval', 'HumanEval.jsonl.gz');

/**
 * How the scripted model answers a problem:
 * - `canonical`: the canonical solution first;
 * - `canonical-always`: the canonical solution on every attempt (its validation fails for another reason,
 *   such as HumanEval/160's `eval`, which the security stage flags);
 * - `wrong-first`: a solution that returns None, then the canonical one on repair;
 * - `syntax-first`: a solution that does not parse, then the canonical one on repair;
 * - `always-wrong`: a solution that returns None on every attempt;
 * - `unusable`: prose instead of the JSON object, also after the corrective round.
 * Every solution carries the problem's own `check` as the model's tests, so a wrong answer fails its
 * validation and is repaired, as a model whose tests are right would be.
 */
export type Plan = 'canonical' | 'canonical-always' | 'wrong-first' | 'syntax-first' | 'always-wrong' | 'unusable';

function analysisOf(problem: Problem): Analysis {
  return {
    intent: 'algorithm',
    title: `Implement ${problem.entry_point}`,
    module: 'solution',
    requirements: [`${problem.entry_point} does what its docstring says`],
    assumptions: [],
    needs_clarification: false,
    questions: [],
  };
}

function solutionWith(problem: Problem, code: string): Solution {
  const tests = hiddenTests(problem);
  return {
    summary: `${problem.entry_point} with tests.`,
    files: [
      { path: SOLUTION_PATH, content: code, patch: null },
      { path: tests.path, content: tests.content.toString('utf8'), patch: null },
    ],
    dependencies: [],
  };
}

const canonical = (p: Problem): Solution => solutionWith(p, p.prompt + (p.canonical_solution ?? ''));
const wrong = (p: Problem): Solution => solutionWith(p, `${p.prompt}    return None\n`);
const unparsable = (p: Problem): Solution => solutionWith(p, `${p.prompt}    return (\n`);
const PROSE: ScriptedAnswer = { raw: 'I would rather explain the algorithm in words.' };

/** The answers for one problem, in the order the pipeline asks for them, with K attempts. */
function answersFor(problem: Problem, plan: Plan, attempts: number): { analysis: ScriptedAnswer; solutions: ScriptedAnswer[] } {
  const solutions: Record<Plan, ScriptedAnswer[]> = {
    canonical: [canonical(problem)],
    'canonical-always': Array.from({ length: attempts }, () => canonical(problem)),
    'wrong-first': [wrong(problem), canonical(problem)],
    'syntax-first': [unparsable(problem), canonical(problem)],
    'always-wrong': Array.from({ length: attempts }, () => wrong(problem)),
    unusable: [PROSE, PROSE],
  };
  return { analysis: analysisOf(problem), solutions: solutions[plan] };
}

/** Scripts the fake server for the problems in order (the eval must then run one problem at a time). */
export function scriptProblems(server: FakeModelServer, problems: readonly Problem[], plans: ReadonlyMap<string, Plan>, attempts: number): void {
  for (const problem of problems) {
    const { analysis, solutions } = answersFor(problem, plans.get(problem.task_id) ?? 'canonical', attempts);
    server.script('code4py_analysis', analysis).script('code4py_solution', ...solutions);
  }
}

export async function firstProblems(n: number, data = HUMANEVAL): Promise<Problem[]> {
  return (await readProblems(data)).slice(0, n);
}
