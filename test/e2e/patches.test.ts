import { describe, expect, it } from 'vitest';
import type { Analysis, Solution } from '../../src/llm/index.js';
import { REPO, useRig } from './setup.js';

/** Edits of an existing file by unified diff (`patch`), from the label to the commit GitHub receives. */

const OPS_PY = '"""Arithmetic on integers."""\n\n\ndef add(a: int, b: int) -> int:\n    """Add two integers."""\n    return a + b\n';
const SUBTRACT = '\n\ndef subtract(a: int, b: int) -> int:\n    """Subtract b from a."""\n    return a - b\n';

const rig = useRig({
  files: { 'README.md': '# calc\n', 'calc/__init__.py': '', 'calc/ops.py': OPS_PY, '.github/code4py.yml': 'max_attempts: 2\n' },
});

const ANALYSIS: Analysis = {
  intent: 'algorithm',
  title: 'Add subtract() to calc.ops',
  module: 'ops',
  requirements: ['subtract(a, b) returns a - b'],
  assumptions: [],
  needs_clarification: false,
  questions: [],
};

const GOOD_PATCH = [
  '--- a/calc/ops.py',
  '+++ b/calc/ops.py',
  '@@ -4,3 +4,8 @@',
  ' def add(a: int, b: int) -> int:',
  '     """Add two integers."""',
  '     return a + b',
  '+',
  '+',
  '+def subtract(a: int, b: int) -> int:',
  '+    """Subtract b from a."""',
  '+    return a - b',
  '',
].join('\n');

/** A patch written against a file the model imagined: none of its context lines is in calc/ops.py. */
const BAD_PATCH = [
  '--- a/calc/ops.py',
  '+++ b/calc/ops.py',
  '@@ -1,3 +1,7 @@',
  ' def plus(x, y):',
  '     """Sum."""',
  '     return x + y',
  '+',
  '+',
  '+def subtract(a, b):',
  '+    return a - b',
  '',
].join('\n');

const TESTS = { path: 'tests/test_ops.py', content: 'from calc.ops import add, subtract\n\n\ndef test_add():\n    assert add(2, 3) == 5\n\n\ndef test_subtract():\n    assert subtract(5, 3) == 2\n', patch: null };
const solution = (patch: string): Solution => ({ summary: 'subtract() beside add()', files: [{ path: 'calc/ops.py', content: null, patch }, TESTS], dependencies: [] });

describe('a patch against an existing file', () => {
  it('is applied to the file as it is, and the commit sent to GitHub holds the whole patched file', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', solution(GOOD_PATCH));
    const issue = rig.addIssue({ title: 'subtract()', body: 'Add subtract(a, b) next to add in calc/ops.py.' });
    await rig.label(issue);
    await rig.settle();

    const branch = `code4py/issue-${issue}`;
    const files = rig.github.filesAt(REPO, branch);
    expect(files['calc/ops.py']).toBe(OPS_PY + SUBTRACT);
    expect(files['tests/test_ops.py']).toBe(TESTS.content);
    // GitHub receives the file's new content inline, never the diff.
    const tree = rig.github.requests.find((r) => r.operationId === 'git/create-tree')!.body as { tree: Array<{ path: string; content: string }> };
    expect(tree.tree).toContainEqual(expect.objectContaining({ path: 'calc/ops.py', content: OPS_PY + SUBTRACT }));
    expect(JSON.stringify(tree)).not.toContain('@@ -4,3');
    const [check] = [...rig.github.repo(REPO).checkRuns.values()];
    expect(check).toMatchObject({ conclusion: 'success', headSha: rig.github.branchSha(REPO, branch) });
    expect(check?.output.title).toBe('2 tests passed · patch coverage 100%');
    expect(rig.pulls()[0]?.body).toMatch(/calc\/ops\.py.*changed/);
    rig.github.assertNoViolations();
  });

  it('that does not apply writes nothing, and gets one corrective round with the file as it is', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', solution(BAD_PATCH), solution(GOOD_PATCH));
    const issue = rig.addIssue({ title: 'subtract()', body: 'Add subtract(a, b) next to add in calc/ops.py.' });
    await rig.label(issue);
    await rig.settle();

    const [first, second, ...more] = rig.model.prompts('code4py_solution');
    expect(more).toEqual([]);
    expect(first).not.toContain('Files not written');
    // The corrective round names the file, says why the patch did not fit, and carries the file's current text.
    const notWritten = second!.slice(second!.indexOf('Files not written'));
    expect(notWritten).toMatch(/^Files not written[^\n]*\n- calc\/ops\.py: /);
    expect(notWritten).toContain(OPS_PY);

    const files = rig.github.filesAt(REPO, `code4py/issue-${issue}`);
    expect(files['calc/ops.py']).toBe(OPS_PY + SUBTRACT);
    // One commit, made from the corrected patch: the failed one never reached GitHub.
    expect(rig.github.requests.filter((r) => r.operationId === 'git/create-commit')).toHaveLength(1);
    expect(rig.pulls()).toHaveLength(1);
  });

  it('that never applies leaves the repository as it was: no commit, no branch, the file untouched', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', solution(BAD_PATCH), solution(BAD_PATCH));
    const issue = rig.addIssue({ title: 'subtract()', body: 'Add subtract(a, b) next to add in calc/ops.py.' });
    await rig.label(issue);
    await rig.settle();

    expect(rig.model.prompts('code4py_solution')).toHaveLength(2);
    expect(rig.github.filesAt(REPO, 'main')['calc/ops.py']).toBe(OPS_PY);
    expect(rig.github.branchSha(REPO, `code4py/issue-${issue}`)).toBeUndefined();
    expect(rig.github.requests.filter((r) => r.operationId?.startsWith('git/create'))).toEqual([]);
    expect(rig.pulls()).toEqual([]);
    const status = rig.botComments(issue).at(-1)?.body;
    expect(status).toMatch(/^❌ Code4Py could not produce code that passes validation in 2 attempts/);
  });

  it('that does not apply gets its corrective round even when the rest passes validation without it', async () => {
    // The tests do not need the patched code, so the first attempt passes: the lost change must not go unnoticed.
    const addOnly = { ...TESTS, content: 'from calc.ops import add\n\n\ndef test_add():\n    assert add(2, 3) == 5\n' };
    const answer = (patch: string): Solution => ({ ...solution(patch), files: [{ path: 'calc/ops.py', content: null, patch }, addOnly] });
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', answer(BAD_PATCH), answer(GOOD_PATCH));
    const issue = rig.addIssue({ title: 'subtract()', body: 'Add subtract(a, b) next to add in calc/ops.py.' });
    await rig.label(issue);
    await rig.settle();

    expect(rig.model.prompts('code4py_solution')).toHaveLength(2);
    expect(rig.github.filesAt(REPO, `code4py/issue-${issue}`)['calc/ops.py']).toBe(OPS_PY + SUBTRACT);
    expect(rig.pulls()).toHaveLength(1);
  });
});
