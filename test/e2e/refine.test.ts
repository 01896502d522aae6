import { beforeEach, describe, expect, it } from 'vitest';
import type { Solution } from '../../src/llm/index.js';
import { reviewCommentCreatedPayload, reviewSubmittedPayload } from '../helpers/webhook-payloads.js';
import { ANALYSIS, NAME, OWNER, REPO, SOLUTION, TEST_WORDS_PY, useRig, WORDS_PY } from './setup.js';

/**
 * Refinements on Code4Py's pull request after a person pushed to its branch: `/code4py refine`, a review
 * that requests changes, and a line comment that mentions /code4py — each a new commit on top of the
 * branch head (the person's commit kept, nothing forced), a fresh check run, the pull request's
 * description brought up to date, and a reply that says what was changed for that feedback.
 */

const rig = useRig();

const HUMAN_WORDS_PY = WORDS_PY.replace('"""Count the whitespace-separated words of text."""', '"""Count the words of text; runs of spaces, tabs and newlines separate them."""');
const TABS_TEST = `${TEST_WORDS_PY}\n\ndef test_tabs():\n    assert count_words("a\\tb") == 2\n`;
const NONE_TEST = `${TABS_TEST}\n\ndef test_blank_lines():\n    assert count_words("\\n\\n") == 0\n`;
const LINE_TEST = `${NONE_TEST}\n\ndef test_one_word():\n    assert count_words("word") == 1\n`;
const onlyTests = (content: string, summary: string): Solution => ({ summary, files: [{ path: 'test_words.py', content, patch: null }], dependencies: [] });

let issue: number;
let pull: number;
let branch: string;

beforeEach(async () => {
  rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
  issue = rig.addIssue({ title: 'Count words', body: 'Add `count_words(text)`.' });
  await rig.label(issue);
  await rig.settle();
  branch = `code4py/issue-${issue}`;
  pull = rig.pulls()[0]!.number;
});

function updateRefs(): Array<Record<string, unknown>> {
  return rig.github.requests.filter((r) => r.operationId === 'git/update-ref').map((r) => r.body as Record<string, unknown>);
}

describe("refining Code4Py's pull request after someone pushed to it", () => {
  it('builds the new commit on the person\'s commit, never forced, with a fresh check run and a reply', async () => {
    const bots = rig.github.branchSha(REPO, branch)!;
    const human = rig.github.push(REPO, branch, { 'words.py': HUMAN_WORDS_PY, 'CONTRIBUTING.md': 'Be kind.\n' }, 'Explain what separates words', 'bob');

    rig.model.script('code4py_solution', onlyTests(TABS_TEST, 'a test with tabs'));
    await rig.comment(pull, '/code4py refine add a test with tabs');
    await rig.settle();

    const head = rig.github.branchSha(REPO, branch)!;
    expect(head).not.toBe(human);
    expect(rig.github.commit(head)?.parents).toEqual([human]);
    expect(rig.github.commit(human)?.parents).toEqual([bots]);
    // The person's changes are all still there; the refinement added only its own.
    const files = rig.github.filesAt(REPO, branch);
    expect(files).toMatchObject({ 'words.py': HUMAN_WORDS_PY, 'CONTRIBUTING.md': 'Be kind.\n', 'test_words.py': TABS_TEST });
    // The branch was moved forward, not forced (the fake refuses a non-fast-forward without force, as GitHub does).
    expect(updateRefs()).toEqual([{ sha: head, force: false }]);
    // The model saw the feedback verbatim and the code as it is on the branch, the person's edit included.
    const prompt = rig.model.prompts('code4py_solution').at(-1)!;
    expect(prompt).toContain('add a test with tabs');
    expect(prompt).toContain('runs of spaces, tabs and newlines separate them');

    const runs = [...rig.github.repo(REPO).checkRuns.values()];
    expect(runs.map((r) => [r.headSha, r.status, r.conclusion])).toEqual([
      [bots, 'completed', 'success'],
      [head, 'completed', 'success'],
    ]);
    expect(runs[1]?.output.title).toBe('3 tests passed · patch coverage 100%');
    // The reply: the feedback it answers, the refinement's own summary and the files this commit changed.
    const [reply, ...more] = rig.botComments(pull).map((c) => c.body);
    expect(more).toEqual([]);
    expect(reply).toBe(
      `🔁 Code4Py pushed ${head.slice(0, 7)} for @alice:\n\n> add a test with tabs\n\n**What changed:** a test with tabs\n\n**Files:** \`test_words.py\`\n\n` +
        `✅ Validation passed: 3 tests passed · patch coverage 100% ([details](https://github.com/octo/calc/runs/${runs[1]!.id})). The pull request's description shows this commit's validation.`,
    );
    expect(reply).not.toContain('Count the whitespace-separated words');
    expect(rig.pulls()).toHaveLength(1);
  });

  it("brings the pull request's description up to the new commit: its files and its validation, the rest as it was", async () => {
    const before = rig.pulls()[0]!.body!;
    rig.model.script('code4py_solution', onlyTests(TABS_TEST, 'a test with tabs'));
    await rig.comment(pull, '/code4py refine add a test with tabs');
    await rig.settle();

    const after = rig.pulls()[0]!.body!;
    const [first, second] = [...rig.github.repo(REPO).checkRuns.values()];
    expect(before).toContain(`runs/${first!.id})`);
    expect(after).not.toContain(`runs/${first!.id})`);
    expect(after).toContain(`[the Code4Py validation check](https://github.com/octo/calc/runs/${second!.id})`);
    expect(after).toContain('## Validation (attempt 1): ✅ passed\n\n- **3 tests passed** · coverage 100%');
    expect(after).toContain('- `test_words.py` (added)\n- `words.py` (added)');
    // What the maintainers wrote the pull request for is unchanged.
    const untouched = (body: string) => body.slice(0, body.indexOf('<!-- code4py:files -->'));
    expect(untouched(after)).toBe(untouched(before));
    expect(after.endsWith(`Closes #${issue}`)).toBe(true);
    const edits = rig.github.requests.filter((r) => r.operationId === 'pulls/update');
    expect(edits).toHaveLength(1);
  });

  it('makes a new commit for a review that requests changes, and for a line comment that mentions /code4py (with its file and line)', async () => {
    const human = rig.github.push(REPO, branch, { 'words.py': HUMAN_WORDS_PY }, 'Docstring', 'bob');
    const where = { owner: OWNER, repo: NAME, sender: 'alice', pull: { number: pull, head: branch, headSha: human } };

    rig.model.script('code4py_solution', onlyTests(NONE_TEST, 'blank lines count as no words'));
    await rig.deliver('pull_request_review', reviewSubmittedPayload({ ...where, review: { body: 'Blank lines should count as no words.', state: 'changes_requested' } }));
    await rig.settle();
    const afterReview = rig.github.branchSha(REPO, branch)!;
    expect(rig.github.commit(afterReview)?.parents).toEqual([human]);
    expect(rig.github.filesAt(REPO, branch)['test_words.py']).toBe(NONE_TEST);
    expect(rig.model.prompts('code4py_solution').at(-1)).toContain('Blank lines should count as no words.');

    rig.model.script('code4py_solution', onlyTests(LINE_TEST, 'one word'));
    await rig.deliver('pull_request_review_comment', reviewCommentCreatedPayload({ ...where, comment: { body: '/code4py test a single word too', path: 'words.py', line: 3 } }));
    await rig.settle();
    const afterComment = rig.github.branchSha(REPO, branch)!;
    expect(rig.github.commit(afterComment)?.parents).toEqual([afterReview]);
    expect(rig.github.filesAt(REPO, branch)).toMatchObject({ 'test_words.py': LINE_TEST, 'words.py': HUMAN_WORDS_PY });
    const prompt = rig.model.prompts('code4py_solution').at(-1)!;
    expect(prompt).toContain('@alice wrote on words.py line 3:\n/code4py test a single word too');

    const runs = [...rig.github.repo(REPO).checkRuns.values()];
    expect(runs.slice(1).map((r) => [r.headSha, r.conclusion])).toEqual([
      [afterReview, 'success'],
      [afterComment, 'success'],
    ]);
    expect(updateRefs().every((body) => body.force === false)).toBe(true);
    expect(rig.botComments(pull)).toHaveLength(2);
  });

  it('leaves the branch alone for a review that asks for nothing', async () => {
    const head = rig.github.branchSha(REPO, branch)!;
    const calls = rig.model.bodies.length;
    await rig.deliver('pull_request_review', reviewSubmittedPayload({ owner: OWNER, repo: NAME, sender: 'alice', pull: { number: pull, head: branch, headSha: head }, review: { body: 'Looks good, thanks!', state: 'approved' } }));
    await rig.settle();
    expect(rig.github.branchSha(REPO, branch)).toBe(head);
    expect(rig.model.bodies).toHaveLength(calls);
    expect(rig.botComments(pull)).toEqual([]);
  });
});
