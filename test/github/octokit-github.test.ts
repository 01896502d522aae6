import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { GitHubApiError } from '../../src/github/errors.js';
import { OctokitGitHub } from '../../src/github/octokit-github.js';
import { readRepoTarball } from '../../src/github/tarball.js';
import { createTestProbot, FakeGitHub, secondaryRateLimit } from '../helpers/fake-github.js';

const REPO = 'octo/calc';
const FILES = { 'calc/__init__.py': '', 'tests/test_calc.py': 'def test_nothing():\n    pass\n' };

describe('OctokitGitHub against the fake GitHub', () => {
  let fake: FakeGitHub;
  let github: OctokitGitHub;

  beforeEach(async () => {
    fake = new FakeGitHub().start();
    fake.addRepo({ owner: 'octo', name: 'calc', files: FILES });
    const octokit = await createTestProbot().auth(fake.installationId);
    github = new OctokitGitHub(octokit, 'octo', 'calc', { secondaryRetries: 2, maxWaitMs: 5_000 });
  });
  afterEach(() => fake.stop());

  describe('who may ask', () => {
    it('reads the collaborator permission, keeping triage and maintain from role_name', async () => {
      fake.setPermission(REPO, 'alice', 'write');
      fake.setPermission(REPO, 'mo', 'maintain');
      fake.setPermission(REPO, 'tri', 'triage');
      expect([await github.permissionOf('alice'), await github.permissionOf('mo'), await github.permissionOf('tri')]).toEqual(['write', 'maintain', 'triage']);
    });

    it('takes a 404 for someone who is not a collaborator as no permission', async () => {
      await expect(github.permissionOf('mallory')).resolves.toBe('none');
    });
  });

  describe('the issue and its conversation', () => {
    it('reads the issue', async () => {
      fake.addIssue(REPO, { title: 'Add add()', body: 'Two numbers', author: 'alice' });
      await expect(github.getIssue(1)).resolves.toEqual({ number: 1, title: 'Add add()', body: 'Two numbers', author: 'alice', state: 'open' });
    });

    it('reads every comment across pages, telling bots apart', async () => {
      fake.addIssue(REPO, { title: 'Add', author: 'alice' });
      for (let i = 0; i < 120; i++) fake.addComment(REPO, 1, { body: `comment ${i}`, author: i === 0 ? 'code4py[bot]' : 'alice' });
      const comments = await github.listComments(1);
      expect(comments).toHaveLength(120);
      expect(comments[0]).toMatchObject({ author: 'code4py[bot]', authorIsBot: true, body: 'comment 0' });
      expect(comments[119]).toMatchObject({ author: 'alice', authorIsBot: false, body: 'comment 119' });
      expect(fake.requests.filter((r) => r.operationId === 'issues/list-comments')).toHaveLength(2);
    });

    it('reacts, comments and edits the comment as the app', async () => {
      fake.addIssue(REPO, { title: 'Add', author: 'alice' });
      const asked = fake.addComment(REPO, 1, { body: '/code4py', author: 'alice' });
      await github.reactToIssue(1, 'eyes');
      await github.reactToComment(asked.id, '+1');
      const id = await github.createComment(1, 'Queued');
      await github.updateComment(id, 'Generating');
      const repo = fake.repo(REPO);
      expect(repo.reactions.map((r) => [r.on, r.content, r.user.login])).toEqual([
        [{ issue: 1 }, 'eyes', 'code4py[bot]'],
        [{ comment: asked.id }, '+1', 'code4py[bot]'],
      ]);
      expect(repo.comments.get(id)).toMatchObject({ author: { login: 'code4py[bot]', type: 'Bot' }, body: 'Generating', history: ['Queued', 'Generating'] });
    });
  });

  describe('the repository', () => {
    it('finds the default branch and its head, and no sha for a missing branch', async () => {
      await expect(github.defaultBranch()).resolves.toEqual({ name: 'main', sha: fake.branchSha(REPO, 'main') });
      await expect(github.branchSha('code4py/issue-1')).resolves.toBeNull();
    });

    it('finds where a branch forked from main after both moved on, by sha or by branch name (a slash in it too)', async () => {
      const fork = fake.branchSha(REPO, 'main')!;
      const branchHead = fake.push(REPO, 'code4py/issue-1', { 'calc/one.py': 'ONE = 1\n' });
      fake.push(REPO, 'code4py/issue-1', { 'calc/two.py': 'TWO = 2\n' });
      const mainHead = fake.push(REPO, 'main', { 'README.md': '# calc\n' });
      fake.push(REPO, 'main', { 'README.md': '# calc, again\n' });
      const head = fake.branchSha(REPO, 'code4py/issue-1')!;
      await expect(github.mergeBase(fake.branchSha(REPO, 'main')!, head)).resolves.toBe(fork);
      await expect(github.mergeBase('main', 'code4py/issue-1')).resolves.toBe(fork);
      // An ancestor of the other side is the merge base itself.
      await expect(github.mergeBase(mainHead, branchHead)).resolves.toBe(fork);
      await expect(github.mergeBase(branchHead, head)).resolves.toBe(branchHead);
      await expect(github.mergeBase('main', 'no-such-branch')).rejects.toBeInstanceOf(GitHubApiError);
    });

    it('downloads the tarball of a commit', async () => {
      const { sha } = await github.defaultBranch();
      const snapshot = await readRepoTarball(await github.downloadTarball(sha));
      expect(Object.fromEntries(snapshot.files.map((f) => [f.path, f.content.toString()]))).toEqual(FILES);
    });
  });

  describe('publishing', () => {
    it('writes one tree with inline contents, a commit and a branch, then moves the branch forward', async () => {
      const base = await github.defaultBranch();
      const tree = await github.createTree(await github.commitTree(base.sha), [{ path: 'calc/add.py', content: 'def add(a, b):\n    return a + b\n' }]);
      const first = await github.createCommit('Add add()', tree, [base.sha]);
      await github.createBranch('code4py/issue-1', first);
      const tree2 = await github.createTree(tree, [{ path: 'tests/test_add.py', content: 'from calc.add import add\n' }]);
      const second = await github.createCommit('Add tests', tree2, [first]);
      await github.updateBranch('code4py/issue-1', second);

      await expect(github.branchSha('code4py/issue-1')).resolves.toBe(second);
      expect(fake.filesAt(REPO, 'code4py/issue-1')).toEqual({ ...FILES, 'calc/add.py': 'def add(a, b):\n    return a + b\n', 'tests/test_add.py': 'from calc.add import add\n' });
      expect(fake.commit(second)).toMatchObject({ message: 'Add tests', parents: [first] });
      expect(fake.writes().map((w) => w.operationId)).toEqual(['git/create-tree', 'git/create-commit', 'git/create-ref', 'git/create-tree', 'git/create-commit', 'git/update-ref']);
    });

    it('refuses to move a branch over a commit someone else pushed (GitHubApiError 422)', async () => {
      const base = await github.defaultBranch();
      const ours = await github.createCommit('Ours', await github.commitTree(base.sha), [base.sha]);
      await github.createBranch('code4py/issue-1', ours);
      fake.push(REPO, 'code4py/issue-1', { 'NOTES.md': 'a human was here\n' });
      const again = await github.createCommit('Ours again', await github.commitTree(base.sha), [ours]);

      const error = await github.updateBranch('code4py/issue-1', again).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(GitHubApiError);
      expect(error).toMatchObject({ status: 422, message: expect.stringMatching(/moving the branch code4py\/issue-1.*not a fast forward/) });
      expect(fake.filesAt(REPO, 'code4py/issue-1')).toHaveProperty('NOTES.md');
    });

    it('opens a pull request once and finds it by its head branch', async () => {
      const base = await github.defaultBranch();
      const head = fake.push(REPO, 'code4py/issue-1', { 'calc/add.py': 'x = 1\n' });
      await expect(github.findPullRequest('code4py/issue-1')).resolves.toBeNull();
      const opened = await github.createPullRequest({ title: 'Add add()', body: 'Closes #1', head: 'code4py/issue-1', base: base.name, draft: true });
      expect(opened).toEqual({ number: 1, url: 'https://github.com/octo/calc/pull/1', state: 'open', headSha: head });
      await expect(github.findPullRequest('code4py/issue-1')).resolves.toEqual(opened);
      await github.updatePullRequest(opened.number, { body: 'Closes #1\n\nValidated.' });
      expect(fake.repo(REPO).pulls.get(1)).toMatchObject({ draft: true, body: 'Closes #1\n\nValidated.', head: 'code4py/issue-1', base: 'main' });
    });

    it('creates the check run in progress, with the address of its page, and completes it with annotations', async () => {
      const { sha } = await github.defaultBranch();
      const { id, url } = await github.createCheckRun({ name: 'Code4Py validation', headSha: sha, externalId: 'octo/calc#1', status: 'in_progress' });
      expect(url).toBe(`https://github.com/octo/calc/runs/${id}`);
      const annotations = [{ path: 'calc/add.py', start_line: 1, end_line: 1, annotation_level: 'failure' as const, message: 'E501 line too long' }];
      await github.updateCheckRun(id, { status: 'completed', conclusion: 'failure', output: { title: '1 passed, 1 failed', summary: '## Validation', annotations } });
      const run = fake.repo(REPO).checkRuns.get(id);
      expect(run).toMatchObject({ name: 'Code4Py validation', headSha: sha, externalId: 'octo/calc#1', status: 'completed', conclusion: 'failure', output: { title: '1 passed, 1 failed', summary: '## Validation' } });
      expect(run?.annotationBatches).toEqual([annotations]);
      expect(run?.updates).toHaveLength(2);
    });
  });

  describe('when GitHub pushes back', () => {
    it('waits out a secondary rate limit and retries', async () => {
      fake.addIssue(REPO, { title: 'Add', author: 'alice' });
      fake.failNext(secondaryRateLimit({ method: 'POST', pathPattern: '/repos/{owner}/{repo}/issues/{issue_number}/comments' }));
      const started = Date.now();
      await github.createComment(1, 'Queued');
      expect(Date.now() - started).toBeGreaterThanOrEqual(950);
      expect(fake.writes().map((w) => w.status)).toEqual([403, 201]);
      expect(fake.repo(REPO).comments.size).toBe(1);
    });

    it('gives up after its retries with a GitHubApiError that keeps the status', async () => {
      fake.failNext({ ...secondaryRateLimit({ method: 'GET', pathPattern: '/repos/{owner}/{repo}', retryAfterSeconds: 0 }), times: 3 });
      await expect(github.defaultBranch()).rejects.toMatchObject({ name: 'GitHubApiError', status: 403 });
      fake.failNext({ method: 'GET', pathPattern: /\/issues\/1$/, status: 502 });
      await expect(github.getIssue(1)).rejects.toMatchObject({ name: 'GitHubApiError', status: 502 });
    });

    it('never sends the installation token in a request body', async () => {
      fake.addIssue(REPO, { title: 'Add', author: 'alice' });
      await github.createComment(1, 'Queued');
      const bodies = JSON.stringify(fake.requests.map((r) => r.body));
      for (const token of fake.tokens) expect(bodies).not.toContain(token);
    });
  });
});
