import type { Solution } from '../llm/index.js';
import { survivorsForModel } from '../validate/mutation/feedback.js';
import type { MutationReport } from '../validate/report.js';
import { isTestFile } from '../validate/source.js';
import { validateAttempt, type Attempt, type AttemptsInput } from './attempt.js';
import { applyPathPolicy } from './generate/path-policy.js';

/** Why a file of a strengthening answer was not taken. */
const TESTS_ONLY = 'a test-strengthening round changes tests only: the code under test stays as it passed validation';

/**
 * Test-strengthening rounds (`mutation.rounds`): the mutants of a passing attempt that no test noticed go
 * back to the model, which answers with stronger tests. Only test files are taken from it, so the code
 * under test never changes; the round's tests are kept only when everything still passes and they kill
 * more mutants. Returns the same attempt (its number kept), strengthened when a round was kept — with the
 * mutation report it started from in `strengthened.before` — and with the rounds' time added either way.
 * A round not kept is no attempt of its own. Null when there is no round to try: no mutant survived the
 * attempt's tests (or none ran), or `mutation.rounds` is 0.
 */
export async function strengthenTests(input: AttemptsInput, passed: Attempt): Promise<Attempt | null> {
  const { config, ports } = input;
  const start = passed.report.mutation;
  let survivors = start ? survivorsForModel(start) : '';
  if (!start || survivors === '' || config.mutation.rounds < 1) return null;
  let current = passed;
  let [modelMs, validationMs] = [passed.modelMs, passed.validationMs];
  for (let round = 1; round <= config.mutation.rounds && survivors !== ''; round++) {
    // The attempt's report in the first round; after that, a kept round's, which killed more mutants than it.
    const before = current.report.mutation ?? start;
    const asked = performance.now();
    let solution: Solution;
    try {
      solution = await ports.model.solve(
        { task: input.task, analysis: input.analysis, context: input.context, strengthen: { current: current.accepted, survivors } },
        input.usage,
        { model: input.model, ...(ports.signal ? { signal: ports.signal } : {}) },
      );
    } catch (error) {
      // The round is a bonus on an attempt that passed: a model that cannot answer it (down, out of
      // tokens, an unusable answer) leaves that attempt as the result. A cancelled task still stops.
      if (ports.signal?.aborted) throw error;
      break;
    } finally {
      modelMs += performance.now() - asked;
    }
    const wholeTests = solution.files.filter((f) => isTestFile(f.path) && f.content !== null);
    const rejected = solution.files.filter((f) => !wholeTests.includes(f)).map((f) => ({ path: f.path, reason: isTestFile(f.path) ? 'a strengthening round writes whole test files, not patches' : TESTS_ONLY }));
    // No test file offered (the model had nothing to add): nothing to try.
    if (wholeTests.length === 0) break;
    const checked = applyPathPolicy(wholeTests, config.paths, input.blocked);
    const tried = await validateAttempt(
      input,
      { number: passed.number, solution: { ...solution, summary: passed.solution.summary, dependencies: passed.solution.dependencies }, rejected: [...current.rejected, ...checked.rejected, ...rejected], modelMs: 0 },
      checked.accepted,
      current.accepted,
    );
    validationMs += tried.validationMs;
    const after = tried.report.mutation;
    if (!(tried.report.passed && after && killsMore(after, before))) break;
    current = { ...tried, strengthened: { before: start } };
    survivors = survivorsForModel(after);
  }
  return { ...current, modelMs, validationMs };
}

function killsMore(after: MutationReport, before: MutationReport): boolean {
  return after.killed + after.timedOut > before.killed + before.timedOut;
}
