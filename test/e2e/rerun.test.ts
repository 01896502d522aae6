import { describe, expect, it } from 'vitest';
import { checkRunRerequestedPayload, checkSuiteRerequestedPayload } from '../helpers/webhook-payloads.js';
import { ANALYSIS, NAME, OWNER, REPO, SOLUTION, useRig } from './setup.js';

/**
 * "Re-run" on the Code4Py validation check (`check_run.rerequested`) and "Re-run all checks" on its suite
 * (`check_suite.rerequested`), with the payloads GitHub sends — including `head_branch: null`.
 */

const rig = useRig();

async function openPullRequest(): Promise<{ issue: number; pull: number; branch: string; head: string }> {
  rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
  const issue = rig.addIssue({ title: 'Count words', body: 'Add `count_words(text)`.' });
  await rig.label(issue);
  await rig.settle();
  const branch = `code4py/issue-${issue}`;
  return { issue, pull: rig.pulls()[0]!.number, branch, head: rig.github.branchSha(REPO, branch)! };
}

function checkRuns() {
  return [...rig.github.repo(REPO).checkRuns.values()];
}

describe('re-running the Code4Py check', () => {
  it('validates the same commit again in a new check run on that commit, in progress while the sandbox runs', async () => {
    const { branch, head } = await openPullRequest();
    const [first] = checkRuns();
    const calls = rig.model.bodies.length;

    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch }));
    await rig.settle();

    const runs = checkRuns();
    expect(runs).toHaveLength(2);
    const rerun = runs[1]!;
    expect(rerun.id).not.toBe(first!.id);
    expect(rerun).toMatchObject({ name: 'Code4Py validation', headSha: head, status: 'completed', conclusion: 'success' });
    expect(rerun.updates[0]).toMatchObject({ head_sha: head, status: 'in_progress' });
    expect(rerun.output.title).toBe('2 tests passed · patch coverage 100%');
    // The first run is left as it was; nothing else changed: no model call, no commit, the branch where it was.
    expect(first).toMatchObject({ status: 'completed', conclusion: 'success', headSha: head });
    expect(first!.updates).toHaveLength(2);
    expect(rig.model.bodies).toHaveLength(calls);
    expect(rig.github.branchSha(REPO, branch)).toBe(head);
    expect(rig.github.requests.filter((r) => r.operationId === 'git/create-commit')).toHaveLength(1);
  });

  it("shows the new validation in the pull request's description when the commit is still its head", async () => {
    const { branch, head } = await openPullRequest();
    const [first] = checkRuns();
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch }));
    await rig.settle();

    const body = rig.pulls()[0]!.body!;
    expect(body).toContain(`[the Code4Py validation check](https://github.com/octo/calc/runs/${checkRuns()[1]!.id})`);
    expect(body).not.toContain(`runs/${first!.id})`);
    expect(body).toContain('## Validation: ✅ passed');
    expect(body).toContain('## Summary');
  });

  it('finds the pull request through the check run\'s pull requests when GitHub sends head_branch: null', async () => {
    const { pull, branch, head } = await openPullRequest();
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: null, pullRequests: [{ number: pull, head: branch }] }));
    await rig.settle();
    expect(checkRuns().map((r) => [r.headSha, r.conclusion])).toEqual([[head, 'success'], [head, 'success']]);
  });

  it("finds the issue through the check run's external id when the event names no branch and no pull request", async () => {
    const { issue, head } = await openPullRequest();
    const [first] = checkRuns();
    expect(first!.externalId).toMatch(new RegExp(`^code4py/issue-${issue}@`));
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: null, externalId: first!.externalId! }));
    await rig.settle();
    expect(checkRuns()).toHaveLength(2);
    expect(checkRuns()[1]).toMatchObject({ headSha: head, conclusion: 'success' });
  });

  it('re-validates on "Re-run all checks" (check_suite.rerequested), with a branch or only a pull request', async () => {
    const { pull, branch, head } = await openPullRequest();
    await rig.deliver('check_suite', checkSuiteRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch }));
    await rig.settle();
    await rig.deliver('check_suite', checkSuiteRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: null, pullRequests: [{ number: pull, head: branch }] }));
    await rig.settle();
    const runs = checkRuns();
    expect(runs).toHaveLength(3);
    expect(runs.slice(1)).toEqual([expect.objectContaining({ headSha: head, conclusion: 'success' }), expect.objectContaining({ headSha: head, conclusion: 'success' })]);
  });

  it("judges the branch only on its own change after the default branch moved on (main's newer commits are not reverted by it)", async () => {
    // A file with a lint finding is on main when the branch is made; main fixes it afterwards.
    rig.github.push(REPO, 'main', { 'legacy.py': 'import os\n' }, 'Legacy module');
    const { branch, head } = await openPullRequest();
    rig.github.push(REPO, 'main', { 'legacy.py': '"""Legacy module."""\n' }, 'Fix the unused import');

    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch }));
    await rig.settle();

    // Against main's tip the branch would bring the unused import back; against where it forked, legacy.py is untouched.
    const rerun = checkRuns()[1]!;
    expect(rerun).toMatchObject({ headSha: head, status: 'completed', conclusion: 'success' });
    expect(rerun.output.title).toBe('2 tests passed · patch coverage 100%');
    expect(rerun.output.summary).toContain('`legacy.py:1` `F401` — \\`os\\` imported but unused (pre-existing)');
    expect(rig.github.requests.some((r) => r.operationId?.startsWith('repos/compare-commits'))).toBe(true);
  });

  it('downloads the commit once when it is already merged (its own merge base)', async () => {
    const { branch, head } = await openPullRequest();
    // A fast-forward merge: main is now the branch's head.
    rig.github.repo(REPO).refs.set('refs/heads/main', head);
    const before = rig.github.requests.length;

    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch }));
    await rig.settle();

    const downloads = rig.github.requests.slice(before).filter((r) => r.operationId === 'repos/download-tarball-archive');
    expect(downloads).toHaveLength(1);
    expect(checkRuns()[1]).toMatchObject({ headSha: head, status: 'completed' });
  });

  it("ignores a re-run of another app's check or of a branch that is not the bot's, and answers one asked by someone without write access without validating", async () => {
    const { issue, branch, head } = await openPullRequest();
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: branch, name: 'CI' }));
    await rig.deliver('check_suite', checkSuiteRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: 'feature/x', pullRequests: [{ number: 99, head: 'feature/x' }] }));
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'alice', headSha: head, headBranch: null, externalId: 'ci-build-17' }));
    await rig.settle();
    expect(rig.github.repo(REPO).checkRuns.size).toBe(1);

    rig.github.setPermission(REPO, 'mallory', 'read');
    await rig.deliver('check_run', checkRunRerequestedPayload({ owner: OWNER, repo: NAME, sender: 'mallory', headSha: head, headBranch: branch }));
    await rig.settle();
    expect(rig.github.repo(REPO).checkRuns.size).toBe(1);
    expect(rig.botComments(issue).at(-1)?.body).toContain('Code4Py only takes work from people with write access');
  });
});
