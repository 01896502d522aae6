import { describe, expect, it } from 'vitest';
import type { Analysis } from '../../src/llm/index.js';
import { ANALYSIS, REPO, SOLUTION, useRig } from './setup.js';

/** Clarifying questions: asked once, numbered, in one comment; answered by the issue's author or skipped with `generate`. */

const rig = useRig();

const VAGUE: Analysis = {
  ...ANALYSIS,
  assumptions: ['words are runs of letters and digits', 'punctuation is not a word'],
  needs_clarification: true,
  questions: ['Should punctuation count as words?', 'Is the input one string or a file?'],
};

function questionComments(issue: number) {
  return rig.botComments(issue).filter((c) => c.body.includes('Code4Py needs to know more'));
}

describe('a task too vague to start', () => {
  it('asks its questions once, numbered in one comment, and waits without writing code', async () => {
    rig.model.script('code4py_analysis', VAGUE);
    const issue = rig.addIssue({ title: 'Count things', body: 'Count them.', author: 'bob' });
    await rig.label(issue);
    await rig.settle();

    const [question, ...more] = rig.botComments(issue);
    expect(more).toEqual([]);
    expect(question?.body).toContain('1. Should punctuation count as words?\n2. Is the input one string or a file?');
    // What `generate` would go ahead with, so that the author can judge whether answering is worth it.
    expect(question?.body).toContain('comment `/code4py generate` to go ahead now with these assumptions:\n\n- words are runs of letters and digits\n- punctuation is not a word');
    expect(rig.model.prompts('code4py_solution')).toEqual([]);
    expect(rig.github.branchSha(REPO, `code4py/issue-${issue}`)).toBeUndefined();
    expect(rig.queue.counts()).toEqual({ done: 1 });
  });

  it("goes on with the author's next comment as the answer, and does not ask again", async () => {
    // Even when the model would still like to know more, the bot has asked once and goes ahead.
    rig.model.script('code4py_analysis', VAGUE, VAGUE).script('code4py_solution', SOLUTION);
    const issue = rig.addIssue({ title: 'Count things', body: 'Count them.', author: 'bob' });
    await rig.label(issue);
    await rig.settle();
    await rig.comment(issue, 'Punctuation is not a word; the input is one string.', { author: 'bob' });
    await rig.settle();

    expect(questionComments(issue)).toHaveLength(1);
    const [pull, ...others] = rig.pulls();
    expect(others).toEqual([]);
    expect(pull).toMatchObject({ head: `code4py/issue-${issue}`, state: 'open' });
    // The answer reached both calls that came after it.
    expect(rig.model.prompts('code4py_analysis')[1]).toContain('Punctuation is not a word; the input is one string.');
    expect(rig.model.prompts('code4py_solution')[0]).toContain('Punctuation is not a word; the input is one string.');
    // The answer was acknowledged on the comment itself.
    expect(rig.github.repo(REPO).reactions.map((r) => r.content)).toEqual(['eyes', 'eyes']);
  });

  it('goes ahead on `/code4py generate`, stating its assumptions in the pull request body', async () => {
    rig.model.script('code4py_analysis', VAGUE, VAGUE).script('code4py_solution', SOLUTION);
    const issue = rig.addIssue({ title: 'Count things', body: 'Count them.', author: 'bob' });
    await rig.label(issue);
    await rig.settle();
    await rig.comment(issue, '/code4py generate');
    await rig.settle();

    expect(questionComments(issue)).toHaveLength(1);
    const [pull] = rig.pulls();
    expect(pull?.body).toContain('## Assumptions\n\n- words are runs of letters and digits\n- punctuation is not a word');
    expect([...rig.github.repo(REPO).checkRuns.values()].map((r) => r.conclusion)).toEqual(['success']);
    expect(rig.botComments(issue).at(-1)?.body).toMatch(/^✅ Code4Py opened /);
  });
});
