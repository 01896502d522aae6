import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Probot } from 'probot';
import { afterEach, beforeEach } from 'vitest';
import { createBot, type BotDeps } from '../../src/bot.js';
import { OpenAIModelClient } from '../../src/llm/index.js';
import { openQueue, type EmbeddedQueue } from '../../src/store/embedded-queue.js';
import { createTestProbot, deliverWebhook, FakeGitHub, testApp, TEST_WEBHOOK_SECRET, type FakeComment, type FakePull } from '../helpers/fake-github.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { useValidation } from '../helpers/validation-ports.js';
import { issueCommentCreatedPayload, issuesLabeledPayload } from '../helpers/webhook-payloads.js';

/**
 * The end-to-end rig the e2e files share: Probot receiving signed webhooks, createBot with the embedded
 * queue and its worker, the model client against a local fake model server, the real sandbox and Ruff, and
 * a fake GitHub whose every request and answer is checked against GitHub's OpenAPI description (a
 * mismatch fails the test when the rig is taken down).
 */

export const OWNER = 'octo';
export const NAME = 'calc';
export const REPO = `${OWNER}/${NAME}`;
export const API_KEY = 'sk-test-e2e-0123456789abcdefghijklmnopqrstuv';

export { ANALYSIS, SOLUTION, TEST_WORDS_PY, WORDS_PY } from '../helpers/word-counter.js';

export interface RigOptions {
  /** The repository's files on its default branch (`.github/code4py.yml` included, if any). */
  readonly files?: Record<string, string>;
  readonly concurrency?: number;
  /** Further bot options (metrics, a daily budget), made per test. */
  readonly bot?: (queue: EmbeddedQueue) => Partial<BotDeps>;
}

export interface Rig {
  readonly github: FakeGitHub;
  readonly model: FakeModelServer;
  readonly queue: EmbeddedQueue;
  readonly probot: Probot;
  readonly bot: ReturnType<typeof createBot>;
  /** Lets intake hand the delivery to the worker, then waits until no task is queued or running. */
  settle(): Promise<void>;
  /** A new issue on the fake GitHub. */
  addIssue(spec: { title: string; body?: string; author?: string }): number;
  /** `issues.labeled` with the `code4py` label, by `sender` (default alice). */
  label(issue: number, sender?: string): Promise<void>;
  /** Writes the comment on the fake GitHub, then delivers `issue_comment.created` for it. */
  comment(issue: number, body: string, options?: { author?: string; onPullRequest?: boolean }): Promise<FakeComment>;
  deliver(name: string, payload: object, id?: string): Promise<void>;
  /** The bot's comments on an issue or pull request, oldest first. */
  botComments(issue: number): FakeComment[];
  pulls(): FakePull[];
}

/**
 * Registers the rig's set-up and take-down around each test of the file (the sandbox and Ruff are opened
 * once per file) and returns it; its fields are those of the running test.
 */
export function useRig(options: RigOptions = {}): Rig {
  const validation = useValidation();
  let state: Omit<Rig, 'settle' | 'addIssue' | 'label' | 'comment' | 'deliver' | 'botComments' | 'pulls'> & { dir: string } | undefined;
  const current = () => {
    if (!state) throw new Error('the e2e rig is used outside a test');
    return state;
  };

  beforeEach(async () => {
    const github = new FakeGitHub().start();
    github.addRepo({ owner: OWNER, name: NAME, files: options.files ?? { 'README.md': '# calc\n', 'requirements.txt': '' } });
    github.setPermission(REPO, 'alice', 'write');
    const model = await new FakeModelServer().start();
    const dir = await mkdtemp(join(tmpdir(), 'code4py-e2e-'));
    const queue = openQueue(join(dir, 'code4py.db'));
    const client = new OpenAIModelClient({ apiKey: API_KEY, baseURL: model.baseUrl, model: 'fake', retry: { baseDelayMs: 1, maxDelayMs: 2 }, secrets: [TEST_WEBHOOK_SECRET, testApp().privateKey] });
    const bot = createBot({ intake: queue, queue, model: client, defaultModel: 'fake', sandbox: validation.sandbox(), linter: validation.linter(), concurrency: options.concurrency ?? 1, pollMs: 20, statusIntervalMs: 60_000, ...options.bot?.(queue) });
    const probot = createTestProbot();
    await probot.load(bot.appFn);
    state = { github, model, queue, probot, bot, dir };
  });

  afterEach(async () => {
    const s = current();
    state = undefined;
    await s.bot.stop();
    s.queue.close();
    await s.model.stop();
    await rm(s.dir, { recursive: true, force: true });
    // Last: throws when any request or answer broke GitHub's description.
    s.github.stop();
  });

  const deliver = (name: string, payload: object, id?: string) => deliverWebhook(current().probot, { name, payload, ...(id ? { id } : {}) });
  const issueOf = (number: number) => {
    const issue = current().github.repo(REPO).issues.get(number);
    if (!issue) throw new Error(`${REPO} has no issue #${number}`);
    return issue;
  };

  return {
    get github() {
      return current().github;
    },
    get model() {
      return current().model;
    },
    get queue() {
      return current().queue;
    },
    get probot() {
      return current().probot;
    },
    get bot() {
      return current().bot;
    },
    async settle() {
      await new Promise((r) => setTimeout(r, 50));
      // The worker takes tasks one after another (and a task may queue another): wait until none is queued
      // or running. Counts that stay the same while the worker is idle for 10 s are stuck: say so.
      const { queue, bot } = current();
      let last = '';
      for (let idleRounds = 0; ; idleRounds++) {
        await bot.worker().idle();
        const counts = queue.counts();
        if (!counts.queued && !counts.running) return;
        const now = JSON.stringify(counts);
        if (now !== last) [last, idleRounds] = [now, 0];
        if (idleRounds >= 500) throw new Error(`tasks still waiting: ${now}`);
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    addIssue(spec) {
      return current().github.addIssue(REPO, { title: spec.title, body: spec.body ?? '', author: spec.author ?? 'alice' }).number;
    },
    async label(issue, sender = 'alice') {
      const { title, body, author } = issueOf(issue);
      await deliver('issues', issuesLabeledPayload({ owner: OWNER, repo: NAME, sender, issue: { number: issue, title, body, author: author.login } }));
    },
    async comment(issue, body, commentOptions = {}) {
      const author = commentOptions.author ?? 'alice';
      const written = current().github.addComment(REPO, issue, { body, author });
      const onPullRequest = commentOptions.onPullRequest ?? issueOf(issue).isPullRequest;
      const { title, author: issueAuthor } = issueOf(issue);
      await deliver('issue_comment', issueCommentCreatedPayload({ owner: OWNER, repo: NAME, sender: author, body, commentId: written.id, issue: { number: issue, title, author: issueAuthor.login }, onPullRequest }));
      return written;
    },
    deliver,
    botComments(issue) {
      return [...current().github.repo(REPO).comments.values()].filter((c) => c.issue === issue && c.author.type === 'Bot');
    },
    pulls() {
      return [...current().github.repo(REPO).pulls.values()];
    },
  };
}
