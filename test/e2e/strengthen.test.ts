import { describe, expect, it } from 'vitest';
import type { Analysis, Solution } from '../../src/llm/index.js';
import { REPO, useRig } from './setup.js';

/**
 * Mutation testing fed back: a first answer whose tests miss a boundary passes validation with a surviving
 * mutant; the bot asks the model once for stronger tests, naming that mutant, and keeps them because they
 * pass and kill it. The code under test stays as it was.
 */

const rig = useRig();

const ANALYSIS: Analysis = {
  intent: 'algorithm',
  title: 'Add is_adult()',
  module: 'ages',
  requirements: ['is_adult(age) is true from 18 on'],
  assumptions: [],
  needs_clarification: false,
  questions: [],
};

const AGES_PY = 'def is_adult(age: int) -> bool:\n    """Whether a person of this age is an adult (18 or older)."""\n    return age >= 18\n';
const WEAK_TESTS = 'from ages import is_adult\n\n\ndef test_grown_up():\n    assert is_adult(40)\n\n\ndef test_child():\n    assert not is_adult(7)\n';
const STRONG_TESTS = `${WEAK_TESTS}\n\ndef test_the_day_one_turns_18():\n    assert is_adult(18)\n    assert not is_adult(17)\n`;

const WEAK: Solution = { summary: 'is_adult() with tests', files: [{ path: 'ages.py', content: AGES_PY, patch: null }, { path: 'test_ages.py', content: WEAK_TESTS, patch: null }], dependencies: [] };
/** The strengthening answer also tries to change the code: only its tests may be kept. */
const STRONGER: Solution = {
  summary: 'boundary tests',
  files: [{ path: 'test_ages.py', content: STRONG_TESTS, patch: null }, { path: 'ages.py', content: AGES_PY.replace('>= 18', '>= 21'), patch: null }],
  dependencies: [],
};

describe('tests that miss a boundary', () => {
  it('get one strengthening round that names the surviving mutant, and the pull request shows the better score', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', WEAK).script('code4py_strengthen', STRONGER);
    const issue = rig.addIssue({ title: 'is_adult()', body: 'Add is_adult(age): true from 18 on.' });
    await rig.label(issue);
    await rig.settle();

    const strengthening = rig.model.prompts('code4py_strengthen');
    expect(strengthening).toHaveLength(1);
    expect(strengthening[0]).toContain('no test fails when line 3 `return age >= 18` becomes `return age > 18`');
    const [pull] = rig.pulls();
    expect(pull?.body).toMatch(/mutation score 100% \(\d+ of \d+ mutants killed\)/);
    // The strengthened tests are committed; the code is the first answer's, not the round's change to it.
    const files = rig.github.filesAt(REPO, `code4py/issue-${issue}`);
    expect(files['test_ages.py']).toContain('def test_the_day_one_turns_18');
    expect(files['ages.py']).toContain('return age >= 18');
    expect(rig.model.remaining('code4py_strengthen')).toBe(0);
    // The same attempt, strengthened: not a second attempt (nor "attempt 2 of 1").
    expect(rig.botComments(issue).at(-1)?.body).toMatch(/^✅ Code4Py opened #\d+: 3 tests passed \(attempt 1 of 3, tests strengthened\)\.\n/);
    expect(pull?.body).toContain('## Validation (attempt 1)');
  });

  it('keep the attempt as it was when the stronger tests do not kill more mutants, and do not count the round as an attempt', async () => {
    const noBetter: Solution = { summary: 'more tests', files: [{ path: 'test_ages.py', content: `${WEAK_TESTS}\n\ndef test_old():\n    assert is_adult(90)\n`, patch: null }], dependencies: [] };
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', WEAK).script('code4py_strengthen', noBetter);
    const issue = rig.addIssue({ title: 'is_adult()', body: 'Add is_adult(age): true from 18 on.' });
    await rig.label(issue);
    await rig.settle();

    expect(rig.model.remaining('code4py_strengthen')).toBe(0);
    expect(rig.github.filesAt(REPO, `code4py/issue-${issue}`)['test_ages.py']).toBe(WEAK_TESTS);
    expect(rig.botComments(issue).at(-1)?.body).toMatch(/^✅ Code4Py opened #\d+: 2 tests passed \(attempt 1 of 3\)\.\n/);
  });
});
