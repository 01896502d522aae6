import { describe, expect, it } from 'vitest';
import type { Solution } from '../../src/llm/index.js';
import { ANALYSIS, SOLUTION, useRig } from '../e2e/setup.js';

/**
 * Graceful shutdown (SIGTERM runs `bot.drain(grace)`): no new task is taken; a running task may finish
 * within the grace period, and one that cannot is given back to the queue with its checkpoints.
 */

const rig = useRig();

/** The usual solution, with a test that takes a while in the sandbox. */
const SLOW: Solution = {
  ...SOLUTION,
  files: [...SOLUTION.files, { path: 'test_slow.py', content: 'import time\n\n\ndef test_slow():\n    time.sleep(1.5)\n', patch: null }],
};

async function started(): Promise<void> {
  for (let i = 0; i < 200 && rig.model.bodies.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
}

describe('graceful shutdown', () => {
  it('lets a running task finish within the grace period, and takes no new one', async () => {
    rig.model.script('code4py_analysis', ANALYSIS, ANALYSIS).script('code4py_solution', SLOW, SOLUTION);
    const first = rig.addIssue({ title: 'Count words', body: 'Add count_words(text).' });
    await rig.label(first);
    await started();
    await rig.bot.drain(30_000);
    expect(rig.pulls()).toHaveLength(1);
    expect(rig.queue.counts()).toEqual({ done: 1 });

    const second = rig.addIssue({ title: 'Later', body: 'Queued during shutdown.' });
    await rig.label(second);
    await new Promise((r) => setTimeout(r, 100));
    expect(rig.queue.counts()).toEqual({ done: 1, queued: 1 });
  });

  it('gives a task that outlasts the grace period back to the queue, with its checkpoints', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SLOW);
    const issue = rig.addIssue({ title: 'Count words', body: 'Add count_words(text).' });
    await rig.label(issue);
    await started();
    await rig.bot.drain(200);
    expect(rig.pulls()).toHaveLength(0);
    expect(rig.queue.counts()).toEqual({ queued: 1 });
    // What it did so far is kept for the process that takes it up: the status comment it wrote.
    const task = rig.queue.claim('next-process');
    expect(rig.queue.checkpoints(task!.id).get()).toMatchObject({ reacted: true, statusCommentId: expect.any(Number) });
  });
});
