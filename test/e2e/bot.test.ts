import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Probot } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBot } from '../../src/bot.js';
import { OpenAIModelClient, type Solution } from '../../src/llm/index.js';
import { packageInfo } from '../../src/version.js';
import { ANALYSIS, SOLUTION } from '../helpers/word-counter.js';
import { openQueue, type EmbeddedQueue } from '../../src/store/embedded-queue.js';
import { createTestProbot, deliverWebhook, FakeGitHub, secondaryRateLimit, testApp, TEST_WEBHOOK_SECRET } from '../helpers/fake-github.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { useValidation } from '../helpers/validation-ports.js';
import examples from '@octokit/webhooks-examples';
import { issueCommentCreatedPayload, issuesLabeledPayload } from '../helpers/webhook-payloads.js';

/**
 * From a signed webhook to a pull request and a check run: Probot, the embedded queue, the worker, the
 * model client against a local fake model server, the real sandbox, and a fake GitHub whose every request
 * and answer is checked against GitHub's OpenAPI description.
 */

const API_KEY = 'sk-test-e2e-0123456789abcdefghijklmnopqrstuv';
const REPO = 'octo/calc';

const validation = useValidation();

let github: FakeGitHub;
let model: FakeModelServer;
let dir: string;
let queue: EmbeddedQueue;
let probot: Probot;
let bot: ReturnType<typeof createBot>;
let issue: number;

beforeEach(async () => {
  github = new FakeGitHub().start();
  github.addRepo({ owner: 'octo', name: 'calc', files: { 'README.md': '# calc\n', 'requirements.txt': '' } });
  github.setPermission(REPO, 'alice', 'write');
  issue = github.addIssue(REPO, { title: 'Count words', body: 'Add `count_words(text)`.', author: 'alice' }).number;
  model = await new FakeModelServer().start();
  dir = await mkdtemp(join(tmpdir(), 'code4py-e2e-'));
  queue = openQueue(join(dir, 'code4py.db'));
  const client = new OpenAIModelClient({ apiKey: API_KEY, baseURL: model.baseUrl, model: 'fake', retry: { baseDelayMs: 1, maxDelayMs: 2 }, secrets: [TEST_WEBHOOK_SECRET, testApp().privateKey] });
  bot = createBot({ intake: queue, queue, model: client, defaultModel: 'fake', sandbox: validation.sandbox(), linter: validation.linter(), concurrency: 1, pollMs: 20, statusIntervalMs: 60_000 });
  probot = createTestProbot();
  await probot.load(bot.appFn);
});

afterEach(async () => {
  await bot.stop();
  queue.close();
  await model.stop();
  github.stop();
  await rm(dir, { recursive: true, force: true });
});

async function settle(): Promise<void> {
  await new Promise((r) => setTimeout(r, 50));
  await bot.worker().idle();
}

function label(id = 'delivery-label') {
  return deliverWebhook(probot, { name: 'issues', id, payload: issuesLabeledPayload({ owner: 'octo', repo: 'calc', sender: 'alice', issue: { number: issue, title: 'Count words', author: 'alice' } }) });
}

describe('a labelled issue, end to end', () => {
  it('becomes one validated pull request with a completed check run, in at most 10 GitHub writes', async () => {
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    await label();
    await settle();

    const repo = github.repo(REPO);
    const pulls = [...repo.pulls.values()];
    expect(pulls).toHaveLength(1);
    expect(pulls[0]).toMatchObject({ title: 'Add a word counter', head: 'code4py/issue-' + issue, base: 'main', draft: false, state: 'open' });
    expect(pulls[0]?.body).toContain(`Closes #${issue}`);
    expect(github.filesAt(REPO, `code4py/issue-${issue}`)['words.py']).toBe(SOLUTION.files[0]!.content);

    const [check] = [...repo.checkRuns.values()];
    expect(check).toMatchObject({ name: 'Code4Py validation', status: 'completed', conclusion: 'success', headSha: github.branchSha(REPO, `code4py/issue-${issue}`) });
    expect(check?.output.title).toBe('2 tests passed · patch coverage 100%');
    expect(check?.output.summary).toContain('2 passed, 0 failed');

    const status = [...repo.comments.values()].find((c) => c.author.type === 'Bot');
    expect(status?.body).toContain(`✅ Code4Py opened #${pulls[0]!.number}: 2 tests passed`);

    // The body's validation result: a few lines, the check run linked for the details, a command a reader can run.
    const body = pulls[0]!.body!;
    expect(body).toContain('## Validation (attempt 1): ✅ passed\n\n- **2 tests passed** · coverage 100% · validated in ');
    expect(body).toContain(`[the Code4Py validation check](https://github.com/octo/calc/runs/${check!.id})`);
    expect(body).toMatch(new RegExp(`\`npx ${packageInfo().name}@${packageInfo().version} validate \\. --base [0-9a-f]{40}\``));
    expect(body).toMatch(/- cost: [\d,]+ tokens in 2 model calls \(no price known for `fake`\)/);
    expect(body).toMatch(/<details><summary>Sandbox and tool versions<\/summary>\n\n- sandbox: `[^`]*pytest/);
    expect(repo.reactions.map((r) => r.content)).toEqual(['eyes']);
    expect(github.writes().length).toBeLessThanOrEqual(10);
    github.assertNoViolations();
  });

  it('makes one pull request when the webhook is delivered twice, or the issue triggered again', async () => {
    model.script('code4py_analysis', ANALYSIS, ANALYSIS).script('code4py_solution', SOLUTION, SOLUTION);
    await label('same-delivery');
    await label('same-delivery');
    await settle();
    const again = github.addComment(REPO, issue, { body: '/code4py', author: 'alice' });
    await deliverWebhook(probot, { name: 'issue_comment', payload: issueCommentCreatedPayload({ owner: 'octo', repo: 'calc', sender: 'alice', body: '/code4py', commentId: again.id, issue: { number: issue } }) });
    await settle();
    expect([...github.repo(REPO).pulls.values()]).toHaveLength(1);
    expect(queue.counts()).toEqual({ done: 2 });
  });

  it('waits out a secondary rate limit instead of failing', async () => {
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    github.failNext(secondaryRateLimit({ method: 'POST', pathPattern: '/repos/{owner}/{repo}/pulls', retryAfterSeconds: 1 }));
    await label();
    await settle();
    expect([...github.repo(REPO).pulls.values()]).toHaveLength(1);
    expect(queue.counts()).toEqual({ done: 1 });
  });

  it('answers someone without write access once, and never calls the model', async () => {
    const asked = github.addComment(REPO, issue, { body: '/code4py', author: 'mallory' });
    await deliverWebhook(probot, { name: 'issue_comment', payload: issueCommentCreatedPayload({ owner: 'octo', repo: 'calc', sender: 'mallory', body: '/code4py', commentId: asked.id, issue: { number: issue } }) });
    await settle();
    const bodies = [...github.repo(REPO).comments.values()].filter((c) => c.author.type === 'Bot').map((c) => c.body);
    expect(bodies).toEqual([expect.stringContaining('Code4Py only takes work from people with write access')]);
    expect(model.bodies).toEqual([]);
  });

  it('sends no secret to GitHub or to the model: no API key, private key, webhook secret or installation token', async () => {
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    await label();
    await settle();
    const secrets = [API_KEY, TEST_WEBHOOK_SECRET, ...testApp().privateKey.split('\n').filter((l) => l.length > 40), ...github.tokens];
    expect(github.tokens.size).toBeGreaterThan(0);
    const toGitHub = github.requests.map((r) => JSON.stringify(r.body ?? ''));
    for (const secret of secrets) {
      for (const body of [...toGitHub, ...model.bodies]) expect(body).not.toContain(secret);
    }
  });

  it('validates the head commit again in a new check run when "Re-run" is clicked', async () => {
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    await label();
    await settle();
    const branch = `code4py/issue-${issue}`;
    const head = github.branchSha(REPO, branch)!;
    // Someone pushes a breaking change; the re-run must judge the commit as it is now.
    const broken = github.push(REPO, branch, { 'words.py': 'def count_words(text):\n    return 0\n' });

    const group = (examples as unknown as Array<{ name: string; examples: Array<Record<string, any>> }>).find((g) => g.name === 'check_run')!;
    const payload = structuredClone(group.examples.find((e) => e.action === 'rerequested')!);
    payload.check_run.name = 'Code4Py validation';
    payload.check_run.head_sha = broken;
    payload.check_run.check_suite.head_branch = branch;
    payload.repository.name = 'calc';
    payload.repository.owner.login = 'octo';
    payload.repository.full_name = REPO;
    payload.sender.login = 'alice';
    payload.installation = { id: github.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==' };
    await deliverWebhook(probot, { name: 'check_run', payload });
    await settle();

    const runs = [...github.repo(REPO).checkRuns.values()];
    expect(runs.map((r) => [r.headSha, r.status, r.conclusion])).toEqual([
      [head, 'completed', 'success'],
      [broken, 'completed', 'failure'],
    ]);
    expect(runs[1]?.output.title).toBe('1 test passed, 1 failed · patch coverage 100%');
    github.assertNoViolations();
  });

  it('asks its questions, then goes on when the issue\'s author answers (whatever their permission)', async () => {
    const own = github.addIssue(REPO, { title: 'Count things', body: 'Count them.', author: 'bob' }).number;
    model.script('code4py_analysis', { ...ANALYSIS, needs_clarification: true, questions: ['Words or lines?'] }, ANALYSIS).script('code4py_solution', SOLUTION);
    await deliverWebhook(probot, { name: 'issues', payload: issuesLabeledPayload({ owner: 'octo', repo: 'calc', sender: 'alice', issue: { number: own, title: 'Count things', author: 'bob' } }) });
    await settle();
    const question = [...github.repo(REPO).comments.values()].find((c) => c.author.type === 'Bot' && c.issue === own);
    expect(question?.body).toContain('1. Words or lines?');

    // A passer-by's comment is no answer, and gets no reply; an unrelated comment on another issue neither.
    github.setPermission(REPO, 'mallory', 'read');
    const noise = github.addComment(REPO, own, { body: '+1', author: 'mallory' });
    await deliverWebhook(probot, { name: 'issue_comment', payload: issueCommentCreatedPayload({ owner: 'octo', repo: 'calc', sender: 'mallory', body: '+1', commentId: noise.id, issue: { number: own, author: 'bob' } }) });
    await settle();
    expect([...github.repo(REPO).comments.values()].filter((c) => c.author.type === 'Bot' && c.issue === own)).toHaveLength(1);
    const other = github.addComment(REPO, issue, { body: 'Words.', author: 'bob' });
    await deliverWebhook(probot, { name: 'issue_comment', payload: issueCommentCreatedPayload({ owner: 'octo', repo: 'calc', sender: 'bob', body: 'Words.', commentId: other.id, issue: { number: issue } }) });
    const answer = github.addComment(REPO, own, { body: 'Words, split on whitespace.', author: 'bob' });
    await deliverWebhook(probot, { name: 'issue_comment', payload: issueCommentCreatedPayload({ owner: 'octo', repo: 'calc', sender: 'bob', body: 'Words, split on whitespace.', commentId: answer.id, issue: { number: own, author: 'bob' } }) });
    await settle();

    expect([...github.repo(REPO).pulls.values()].map((p) => p.head)).toEqual([`code4py/issue-${own}`]);
    expect(model.bodies.at(-1)).toContain('Words, split on whitespace.');
    github.assertNoViolations();
  });

  it('refines its pull request on `/code4py refine` and on a line comment that mentions /code4py', async () => {
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    await label();
    await settle();
    const pull = [...github.repo(REPO).pulls.values()][0]!;
    const refined: Solution = { ...SOLUTION, summary: 'count_words() also counts tabs', files: [{ path: 'words.py', content: SOLUTION.files[0]!.content!.replace('"""Count', '"""Count (tabs too)'), patch: null }, SOLUTION.files[1]!] };
    model.script('code4py_solution', refined);
    await deliverWebhook(probot, {
      name: 'issue_comment',
      payload: issueCommentCreatedPayload({ owner: 'octo', repo: 'calc', sender: 'alice', body: '/code4py refine mention tabs in the docstring', issue: { number: pull.number }, onPullRequest: true }),
    });
    await settle();
    const branch = `code4py/issue-${issue}`;
    expect(github.filesAt(REPO, branch)['words.py']).toContain('(tabs too)');
    expect(model.bodies.at(-1)).toContain('mention tabs in the docstring');

    const group = (examples as unknown as Array<{ name: string; examples: Array<Record<string, any>> }>).find((g) => g.name === 'pull_request_review_comment')!;
    const payload = structuredClone(group.examples.find((e) => e.action === 'created')!);
    Object.assign(payload.comment, { id: 777, body: 'Please /code4py: return 0 for None too', path: 'words.py', line: 3 });
    payload.comment.user.type = 'User';
    Object.assign(payload.pull_request, { number: pull.number });
    payload.pull_request.head.ref = branch;
    Object.assign(payload.repository, { name: 'calc', full_name: REPO });
    payload.repository.owner.login = 'octo';
    Object.assign(payload.sender, { login: 'alice', type: 'User' });
    payload.installation = { id: github.installationId, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==' };
    model.script('code4py_solution', SOLUTION);
    await deliverWebhook(probot, { name: 'pull_request_review_comment', payload });
    await settle();
    const last = model.bodies.at(-1)!;
    expect(last).toContain('return 0 for None too');
    expect(last).toContain('words.py');
    const runs = [...github.repo(REPO).checkRuns.values()];
    expect(runs).toHaveLength(3);
    expect(runs.every((r) => r.conclusion === 'success')).toBe(true);
    github.assertNoViolations();
  });
});
