import { describe, expect, it } from 'vitest';
import type { Analysis, Solution } from '../../src/llm/index.js';
import { ADD_MEAN, DEBT_LIBRARY } from '../helpers/debt-library.js';
import { useRig } from './setup.js';

/**
 * The bot on a repository with pre-existing debt (lint and security findings, a test that already fails):
 * it validates its change against the base commit, so the debt neither fails it nor reaches the model, and
 * the pull request states the fail-before / pass-after evidence.
 */

const rig = useRig({ files: { ...DEBT_LIBRARY, '.github/code4py.yml': 'max_attempts: 2\nmutation:\n  rounds: 0\n' } });

const ANALYSIS: Analysis = {
  intent: 'algorithm',
  title: 'Add mean()',
  module: 'stats',
  requirements: ['mean(values) is the arithmetic mean', 'mean([]) raises ValueError'],
  assumptions: [],
  needs_clarification: false,
  questions: [],
};

const file = (path: string, content: string) => ({ path, content, patch: null });
const CORRECT: Solution = { summary: 'mean() with tests', files: Object.entries(ADD_MEAN).map(([path, content]) => file(path, content)), dependencies: [] };
/** An off-by-one in the new code, and a finding of the change's own (an ambiguous name, E741, which Ruff cannot fix). */
const BUGGY: Solution = {
  ...CORRECT,
  files: [file('mathlib/stats.py', ADD_MEAN['mathlib/stats.py']!.replace('    return sum(values) / len(values)', '    l = len(values) + 1\n    return sum(values) / l')), file('tests/test_stats.py', ADD_MEAN['tests/test_stats.py']!)],
};

describe('a task on a repository with pre-existing debt', () => {
  it('repairs only what its change broke, and the pull request states that its new tests fail on the base branch', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', BUGGY, CORRECT);
    const issue = rig.addIssue({ title: 'mean()', body: 'Add mathlib.stats.mean(values); raise ValueError on no values.' });
    await rig.label(issue);
    await rig.settle();

    const [, prompt] = rig.model.prompts('code4py_solution');
    // The repair section (the repository's files are in the prompt too, as context).
    const repair = /## Why it failed validation([\s\S]*?)(\n## |$)/.exec(prompt ?? '')?.[1] ?? '';
    // What the change introduced: its failing test and its own finding…
    expect(repair).toContain('tests/test_stats.py::test_mean');
    expect(repair).toContain('E741');
    // …and nothing that was there before it: the known-broken test, core.py's eval, setup.py's os.system, E401.
    expect(repair).not.toContain('test_evaluate_is_known_broken');
    expect(repair).not.toMatch(/S307|S605|S301|E401/);

    const [pull] = rig.pulls();
    expect(pull?.draft).toBe(false);
    expect(pull?.body).toContain('2 of 2 new or changed tests fail on the base branch and pass with this change');
    expect(pull?.body).toMatch(/--base [0-9a-f]{40}/);
  });
});
