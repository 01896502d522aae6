import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FakeGitHub, testApp } from '../helpers/fake-github.js';
import { serveFakeGitHub, type FakeGitHubServer } from '../helpers/fake-github-http.js';
import { postWebhook } from '../helpers/post-webhook.js';
import { freePort } from '../helpers/redis.js';
import { issueCommentCreatedPayload } from '../helpers/webhook-payloads.js';

/**
 * GHE_HOST: the bot started as `npm start` does, against a GitHub Enterprise host — the
 * OpenAPI-checked fake GitHub served over HTTP on loopback. Every GitHub request of a task, the
 * installation token included, must go to that host and nowhere else.
 */

const SECRET = 'enterprise-host-test-secret';
let dir: string;
let github: FakeGitHub;
let server: FakeGitHubServer;
let bot: ChildProcess | undefined;
let output = '';

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-ghe-'));
  github = new FakeGitHub();
  github.addRepo({ owner: 'octo', name: 'calc' });
  github.setPermission('octo/calc', 'alice', 'write');
  github.addIssue('octo/calc', { title: 'Add a word counter', author: 'alice' });
  server = await serveFakeGitHub(github);
});

afterEach(async () => {
  if (bot && bot.exitCode === null) {
    const exited = new Promise((resolve) => bot!.once('exit', resolve));
    bot.kill('SIGKILL');
    await exited;
  }
  await server.close();
  await rm(dir, { recursive: true, force: true });
  github.assertNoViolations();
});

async function startBot(): Promise<number> {
  const port = await freePort();
  bot = spawn(process.execPath, ['dist/src/main.js'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      APP_ID: String(testApp().appId),
      PRIVATE_KEY: testApp().privateKey,
      WEBHOOK_SECRET: SECRET,
      GHE_HOST: server.host,
      GHE_PROTOCOL: 'http',
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      CODE4PY_DB_PATH: join(dir, 'code4py.db'),
      // No model call happens for `help`; the client only needs a key and a loopback address.
      OPENAI_API_KEY: 'test-key',
      OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    },
  });
  output = '';
  bot.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  bot.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  for (let i = 0; i < 300; i++) {
    if (await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false)) return port;
    if (bot.exitCode !== null) throw new Error(`the bot exited with ${bot.exitCode}: ${output}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`the bot did not become ready: ${output}`);
}

describe('the bot on a GitHub Enterprise host (GHE_HOST, GHE_PROTOCOL)', () => {
  it('answers `/code4py help` with every request, the installation token included, sent to that host', async () => {
    const port = await startBot();
    const status = await postWebhook(port, SECRET, { event: 'issue_comment', id: 'ghe-help-1', payload: issueCommentCreatedPayload({ sender: 'alice', body: '/code4py help', issue: { number: 1 } }) });
    expect(status).toBe(200);

    const botComment = async () => [...github.repo('octo/calc').comments.values()].find((c) => c.issue === 1 && c.author.login === github.bot.login);
    for (let i = 0; i < 300 && !(await botComment()); i++) await new Promise((r) => setTimeout(r, 50));

    expect((await botComment())?.body, `no help comment; the bot said:\n${output}`).toContain('/code4py');
    const operations = github.requests.map((r) => `${r.method} ${r.operationId} ${r.status}`);
    expect(operations).toContain('POST apps/create-installation-access-token 201');
    expect(operations).toContain('POST issues/create-comment 201');
    expect(output).not.toMatch(/api\.github\.com|task failed/);
  });
});
