import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Probot } from 'probot';
import { readRepoTarball } from '../../src/github/tarball.js';
import { createTestProbot, deliverWebhook, FakeGitHub, secondaryRateLimit } from '../helpers/fake-github.js';
import { checkRequest, checkResponse, exampleOf, findOperation, OpenApiViolation } from '../helpers/openapi.js';
import { issuesLabeledPayload } from '../helpers/webhook-payloads.js';

describe("the OpenAPI check of GitHub requests", () => {
  it('finds git ref operations whose ref holds slashes, encoded or not', () => {
    for (const path of ['/repos/octo/calc/git/refs/heads%2Fcode4py%2Fissue-1', '/repos/octo/calc/git/refs/heads/code4py/issue-1']) {
      expect(findOperation('PATCH', path)).toMatchObject({ operationId: 'git/update-ref', params: { owner: 'octo', repo: 'calc', ref: 'heads/code4py/issue-1' } });
    }
    expect(findOperation('GET', '/repos/octo/calc/git/ref/heads%2Fmain')).toMatchObject({ operationId: 'git/get-ref' });
  });

  it('rejects a body GitHub would refuse, naming the operation and the JSON pointer', () => {
    const wrong = { method: 'POST', url: '/repos/octo/calc/git/trees', body: { tree: [{ path: 'a.py', mode: '644', type: 'blob', content: 'x' }] } };
    expect(() => checkRequest(wrong)).toThrow(OpenApiViolation);
    expect(() => checkRequest(wrong)).toThrow(/git\/create-tree.*request body at \/tree\/0\/mode must be equal to one of the allowed values/);
    expect(() => checkRequest({ method: 'POST', url: '/repos/octo/calc/issues/1/comments', body: {} })).toThrow(/request body must have required property 'body'/);
  });

  it('rejects an undocumented path, method or query parameter', () => {
    expect(() => checkRequest({ method: 'GET', url: '/repos/octo/calc/pull-requests' })).toThrow(/not a documented GitHub REST API path/);
    expect(() => checkRequest({ method: 'PUT', url: '/repos/octo/calc/git/trees', body: {} })).toThrow(/allows POST/);
    expect(() => checkRequest({ method: 'GET', url: '/repos/octo/calc/pulls?head=octo:x&status=open' })).toThrow(/query parameter status is not documented/);
  });

  it('rejects a response without a field GitHub always sends, and takes nullable fields as null', () => {
    const op = checkRequest({ method: 'GET', url: '/repos/octo/calc/issues/1' });
    const issue = exampleOf('issue');
    expect(issue).toMatchObject({ milestone: null, closed_at: null });
    expect(() => checkResponse(op, { status: 200, body: issue })).not.toThrow();
    delete issue.number;
    expect(() => checkResponse(op, { status: 200, body: issue })).toThrow(/200 response body must have required property 'number'/);
  });
});

describe('the fake GitHub', () => {
  let fake: FakeGitHub;
  let probot: Probot;

  beforeEach(() => {
    fake = new FakeGitHub().start();
    fake.addRepo({ owner: 'octo', name: 'calc', files: { 'calc/__init__.py': '', 'README.md': '# calc\n' } });
    probot = createTestProbot();
  });
  afterEach(() => fake.stop());

  it('answers a body GitHub would refuse with 422 and fails the test', async () => {
    const octokit = await probot.auth(fake.installationId);
    const request = octokit.request('POST /repos/{owner}/{repo}/git/trees', { owner: 'octo', repo: 'calc', tree: [{ path: 'a.py', mode: '644' as '100644', type: 'blob', content: 'x' }] });
    await expect(request).rejects.toMatchObject({ status: 422 });
    expect(() => fake.assertNoViolations()).toThrow(/git\/create-tree.*\/tree\/0\/mode/);
    fake.violations.length = 0;
  });

  it('answers an undocumented path with 404 and fails the test', async () => {
    const octokit = await probot.auth(fake.installationId);
    await expect(octokit.request('GET /repos/{owner}/{repo}/pull-requests', { owner: 'octo', repo: 'calc' })).rejects.toMatchObject({ status: 404 });
    expect(fake.violations).toEqual([expect.stringMatching(/GET \/repos\/octo\/calc\/pull-requests is not a documented/)]);
    fake.violations.length = 0;
  });

  it('accepts only the installation tokens it issued, for a JWT signed with the app key', async () => {
    const octokit = await probot.auth(fake.installationId);
    await octokit.rest.repos.get({ owner: 'octo', repo: 'calc' });
    expect(fake.tokens.size).toBe(1);
    expect(fake.requests[1]?.headers.authorization).toBe(`token ${[...fake.tokens][0]}`);
    const forged = await fetch('https://api.github.com/repos/octo/calc', { headers: { authorization: 'token ghs_forged' } });
    expect(forged.status).toBe(401);
    await expect((await probot.auth(999)).rest.repos.get({ owner: 'octo', repo: 'calc' })).rejects.toMatchObject({ status: 404 });
  });

  it('records every request and counts the writes', async () => {
    const octokit = await probot.auth(fake.installationId);
    fake.addIssue('octo/calc', { title: 'Add', author: 'alice' });
    await octokit.rest.issues.get({ owner: 'octo', repo: 'calc', issue_number: 1 });
    await octokit.rest.issues.createComment({ owner: 'octo', repo: 'calc', issue_number: 1, body: 'On it' });
    expect(fake.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`)).toEqual([
      'POST apps/create-installation-access-token 201',
      'GET issues/get 200',
      'POST issues/create-comment 201',
    ]);
    expect(fake.writes()).toMatchObject([{ path: '/repos/octo/calc/issues/1/comments', body: { body: 'On it' } }]);
    expect(fake.repo('octo/calc').comments.size).toBe(1);
  });

  it('fails the next matching requests as asked, then answers normally', async () => {
    const octokit = await probot.auth(fake.installationId);
    fake.failNext(secondaryRateLimit({ method: 'GET', pathPattern: '/repos/{owner}/{repo}', times: 2 }));
    for (let i = 0; i < 2; i++) {
      await expect(octokit.rest.repos.get({ owner: 'octo', repo: 'calc' })).rejects.toMatchObject({ status: 403, response: { headers: { 'retry-after': '1' } }, message: expect.stringMatching(/secondary rate limit/) });
    }
    await expect(octokit.rest.repos.get({ owner: 'octo', repo: 'calc' })).resolves.toMatchObject({ data: { default_branch: 'main' } });
  });

  it('serves .github/code4py.yml to the config plugin, falling back to the owner\'s .github repository', async () => {
    const octokit = await probot.auth(fake.installationId);
    fake.addRepo({ owner: 'octo', name: '.github', files: { '.github/code4py.yml': 'label: org-default\n' } });
    await expect(octokit.config.get({ owner: 'octo', repo: 'calc', path: '.github/code4py.yml' })).resolves.toMatchObject({ config: { label: 'org-default' } });
    fake.push('octo/calc', 'main', { '.github/code4py.yml': '_extends: .github\nmax_attempts: 2\n' });
    await expect(octokit.config.get({ owner: 'octo', repo: 'calc', path: '.github/code4py.yml' })).resolves.toMatchObject({ config: { label: 'org-default', max_attempts: 2 } });
  });

  it('sends the tarball through a codeload redirect, as GitHub does, also for a private repository', async () => {
    fake.addRepo({ owner: 'octo', name: 'secret', private: true, files: { 'src/app.py': 'print(1)\n', 'tests/test_app.py': 'def test(): pass\n' } });
    const octokit = await probot.auth(fake.installationId);
    const { data, url } = await octokit.rest.repos.downloadTarballArchive({ owner: 'octo', repo: 'secret', ref: 'main' });
    expect(url).toMatch(/^https:\/\/codeload\.github\.com\/octo\/secret\/legacy\.tar\.gz\/main\?token=ghs_/);
    const snapshot = await readRepoTarball(Buffer.from(data as ArrayBuffer));
    expect(snapshot.files.map((f) => [f.path, f.content.toString()])).toEqual([
      ['src/app.py', 'print(1)\n'],
      ['tests/test_app.py', 'def test(): pass\n'],
    ]);
    expect(snapshot.skipped).toEqual([]);
  });

  it('keeps GitHub\'s rules: one open pull request per head, 50 annotations per request', async () => {
    const octokit = await probot.auth(fake.installationId);
    const head = fake.push('octo/calc', 'code4py/issue-1', { 'calc/add.py': 'def add(a, b):\n    return a + b\n' });
    const pull = { owner: 'octo', repo: 'calc', title: 'Add', head: 'code4py/issue-1', base: 'main' };
    await octokit.rest.pulls.create(pull);
    await expect(octokit.rest.pulls.create(pull)).rejects.toMatchObject({ status: 422, message: expect.stringMatching(/A pull request already exists/) });
    const annotations = Array.from({ length: 51 }, (_, i) => ({ path: 'calc/add.py', start_line: i + 1, end_line: i + 1, annotation_level: 'warning' as const, message: 'm' }));
    const create = octokit.rest.checks.create({ owner: 'octo', repo: 'calc', name: 'Code4Py validation', head_sha: head, output: { title: 't', summary: 's', annotations } });
    await expect(create).rejects.toMatchObject({ status: 422 });
    expect(fake.violations).toEqual([expect.stringMatching(/checks\/create.*\/output\/annotations must NOT have more than 50 items/)]);
    fake.violations.length = 0;
  });

  it('delivers a signed webhook to a Probot whose handlers reach the fake', async () => {
    fake.addIssue('octo/calc', { title: 'Add', author: 'alice', labels: ['code4py'] });
    const seen: string[] = [];
    probot.on('issues.labeled', async (context) => {
      seen.push(`${context.payload.label?.name} by ${context.payload.sender.login}`);
      await context.octokit.rest.reactions.createForIssue(context.issue({ content: 'eyes' }));
    });
    await deliverWebhook(probot, { name: 'issues', payload: issuesLabeledPayload({ issue: { number: 1 }, sender: 'alice' }) });
    expect(seen).toEqual(['code4py by alice']);
    expect(fake.repo('octo/calc').reactions).toMatchObject([{ on: { issue: 1 }, content: 'eyes', user: { login: 'code4py[bot]', type: 'Bot' } }]);
  });
});
