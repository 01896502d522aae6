import { describe, expect, it } from 'vitest';
import { checkRunRerequestedPayload } from '../helpers/webhook-payloads.js';
import { ANALYSIS, NAME, OWNER, REPO, SOLUTION, useRig } from './setup.js';

/** "Re-run" on the Code4Py validation check (`check_run.rerequested`). */

const rig = useRig();

async function openPullRequest(): Promise<{ issue: number; branch: string; head: string }> {
  rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
  const issue = rig.addIssue({ title: 'Count words', body: 'Add `count_words(text)`.' });
  await rig.label(issue);
  await rig.settle();
  const branch = `code4py/issue-${issue}`;
  return { issue, branch, head: rig.github.branchSha(REPO, branch)! };
}

describe('re-running the Code4Py check', () => {
  it('validates the same commit again in a new check run on that commit, in progress while the sandbox runs', async () => {
    const { branch, head } = await openPullRequest();
    const [first] = [...rig.github.repo(REPO).checkRuns.values()];
    const calls = rig.model.bodies.length;

    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch }));
    await rig.settle();

    const runs = [...rig.github.repo(REPO).checkRuns.values()];
    expect(runs).toHaveLength(2);
    const rerun = runs[1]!;
    expect(rerun.id).not.toBe(first!.id);
    expect(rerun).toMatchObject({ name: 'Code4Py validation', headSha: head, status: 'completed', conclusion: 'success' });
    expect(rerun.updates[0]).toMatchObject({ head_sha: head, status: 'in_progress' });
    expect(rerun.output.title).toBe('Passed: 2 passed, 0 failed');
    // The first run is left as it was; nothing else changed: no model call, no commit, the branch where it was.
    expect(first).toMatchObject({ status: 'completed', conclusion: 'success', headSha: head });
    expect(first!.updates).toHaveLength(2);
    expect(rig.model.bodies).toHaveLength(calls);
    expect(rig.github.branchSha(REPO, branch)).toBe(head);
    expect(rig.github.requests.filter((r) => r.operationId === 'git/create-commit')).toHaveLength(1);
  });

  it("ignores a re-run of another app's check, and answers one asked by someone without write access without validating", async () => {
    const { issue, branch, head } = await openPullRequest();
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch, name: 'CI' }));
    await rig.settle();
    expect(rig.github.repo(REPO).checkRuns.size).toBe(1);

    rig.github.setPermission(REPO, 'mallory', 'read');
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'mallory', headSha: head, headBranch: branch }));
    await rig.settle();
    expect(rig.github.repo(REPO).checkRuns.size).toBe(1);
    expect(rig.botComments(issue).at(-1)?.body).toContain('Code4Py only takes work from people with write access');
  });
});
