import { describe, expect, it } from 'vitest';
import type { Solution } from '../../src/llm/index.js';
import { processesWith } from '../helpers/host.js';
import { ANALYSIS, REPO, SOLUTION, useRig } from './setup.js';

/** `help`, unknown commands, `cancel` and `retry`, from the comment's webhook to what lands on GitHub. */

const rig = useRig({
  // One task at a time, so a second issue's task waits in the queue; a bounded test run in case cancel fails.
  concurrency: 1,
  files: { 'README.md': '# calc\n', '.github/code4py.yml': 'max_attempts: 1\ntests:\n  timeout_seconds: 45\n' },
});

async function waitFor<T>(probe: () => Promise<T[]>, what: string): Promise<T[]> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const found = await probe();
    if (found.length > 0) return found;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('/code4py help and unknown commands', () => {
  it('answers `help` with the command list, and calls no model', async () => {
    const issue = rig.addIssue({ title: 'How do I use this?' });
    await rig.comment(issue, '/code4py help');
    await rig.settle();

    const [answer, ...more] = rig.botComments(issue);
    expect(more).toEqual([]);
    for (const command of ['`/code4py` or `/code4py generate [instructions]`', '`/code4py refine <feedback>`', '`/code4py retry`', '`/code4py cancel`', '`/code4py help`']) {
      expect(answer?.body).toContain(command);
    }
    expect(rig.model.bodies).toEqual([]);
    expect(rig.github.writes().map((w) => w.operationId)).toEqual(['issues/create-comment']);
  });

  it('answers a command it does not know with the help text, naming the word', async () => {
    const issue = rig.addIssue({ title: 'Ship it' });
    await rig.comment(issue, '/code4py deploy to production');
    await rig.settle();

    const [answer, ...more] = rig.botComments(issue);
    expect(more).toEqual([]);
    expect(answer?.body).toMatch(/^Code4Py does not know `deploy`\.\n\n\*\*Code4Py commands\*\*/);
    expect(answer?.body).toContain('`/code4py retry`');
    expect(rig.model.bodies).toEqual([]);
    expect(rig.pulls()).toEqual([]);
  });
});

describe('/code4py cancel', () => {
  it('drops a queued task, and stops a running one: its sandbox is killed, nothing is published', async () => {
    // The running task's test starts a process that would sleep for two minutes, its command line marked.
    const marker = `code4py-e2e-cancel-${process.pid}-${Date.now()}`;
    const hanging: Solution = {
      ...SOLUTION,
      files: [
        SOLUTION.files[0]!,
        { path: 'test_words.py', content: `import subprocess\nimport sys\n\n\ndef test_hangs():\n    subprocess.run([sys.executable, "-c", "import time; time.sleep(120)", "${marker}"])\n`, patch: null },
      ],
    };
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', hanging);
    const running = rig.addIssue({ title: 'Count words' });
    const queued = rig.addIssue({ title: 'Count lines' });
    await rig.label(running);
    await waitFor(() => processesWith(marker), 'the generated test to start');
    await rig.label(queued);
    expect(rig.queue.counts()).toEqual({ running: 1, queued: 1 });

    // The queued one first: it is dropped before it ever starts.
    await rig.comment(queued, '/code4py cancel');
    const answers = await waitFor(async () => rig.botComments(queued), 'the answer to cancel');
    expect(answers.map((c) => c.body)).toEqual(['🛑 Cancelled by @alice: the queued task was dropped.']);
    expect(await processesWith(marker)).not.toEqual([]);

    // Then the running one: the worker aborts it and the sandbox's whole process tree dies with it.
    await rig.comment(running, '/code4py cancel');
    await rig.settle();
    expect(await processesWith(marker)).toEqual([]);

    const comments = rig.botComments(running).map((c) => c.body);
    expect(comments).toContainEqual('🛑 Cancelled by @alice: the running task is stopping (its sandbox is killed).');
    // The status comment ends saying so (and how to start again), instead of a result.
    expect(comments).toContainEqual('🛑 Code4Py stopped: the task was cancelled with `/code4py cancel`. Comment `/code4py retry` to start again.');
    expect(rig.pulls()).toEqual([]);
    expect(rig.github.branchSha(REPO, `code4py/issue-${running}`)).toBeUndefined();
    expect([...rig.github.repo(REPO).checkRuns.values()]).toEqual([]);
    expect(rig.github.writes().filter((w) => w.operationId?.startsWith('git/') || w.operationId?.startsWith('pulls/') || w.operationId?.startsWith('checks/'))).toEqual([]);
    // The dropped task never reached the model: one analysis and one solution, both for the running issue.
    expect(rig.model.bodies).toHaveLength(2);
    expect(rig.model.bodies.join('\n')).not.toContain('Count lines');
    expect(rig.queue.counts()).toEqual({ cancelled: 1, done: 3 });
  });

  it('says there was nothing to cancel when no task is queued or running', async () => {
    const issue = rig.addIssue({ title: 'Idle' });
    await rig.comment(issue, '/code4py cancel');
    await rig.settle();
    expect(rig.botComments(issue).map((c) => c.body)).toEqual(['🛑 Cancelled by @alice: there was no task to cancel.']);
  });
});

describe('/code4py retry', () => {
  it('queues a failed task again, which then opens the pull request', async () => {
    // The model server refuses the key once: the task fails with a message that names `retry`.
    rig.model.script('code4py_analysis', { status: 401, body: JSON.stringify({ error: { message: 'Incorrect API key provided' } }) });
    const issue = rig.addIssue({ title: 'Count words', body: 'Add `count_words(text)`.' });
    await rig.label(issue);
    await rig.settle();

    const [failed] = rig.botComments(issue);
    expect(failed?.body).toMatch(/^❌ Code4Py stopped: The model server at 127\.0\.0\.1:\d+ refused the API key \(401/);
    expect(failed?.body).toContain('comment `/code4py retry` to try again');
    expect(rig.pulls()).toEqual([]);
    expect(rig.queue.counts()).toEqual({ failed: 1 });

    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    const retry = await rig.comment(issue, '/code4py retry');
    await rig.settle();

    const [pull, ...others] = rig.pulls();
    expect(others).toEqual([]);
    expect(pull).toMatchObject({ head: `code4py/issue-${issue}`, state: 'open', draft: false });
    expect(pull?.body).toContain(`Closes #${issue}`);
    expect(rig.github.filesAt(REPO, `code4py/issue-${issue}`)['words.py']).toBe(SOLUTION.files[0]!.content);
    expect([...rig.github.repo(REPO).checkRuns.values()].map((r) => r.conclusion)).toEqual(['success']);
    expect(rig.github.repo(REPO).reactions).toContainEqual(expect.objectContaining({ on: { comment: retry.id }, content: 'eyes' }));
    expect(rig.botComments(issue).at(-1)?.body).toMatch(new RegExp(`^✅ Code4Py opened #${pull!.number}: `));
    expect(rig.queue.counts()).toEqual({ failed: 1, done: 1 });
  });
});
