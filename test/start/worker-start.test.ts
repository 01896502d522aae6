import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBotProcess, type BotProcess } from '../helpers/bot-process.js';
import { sampleWhile } from '../helpers/host.js';
import { testApp } from '../helpers/fake-github.js';
import { postWebhook } from '../helpers/post-webhook.js';
import { useTempDirs } from '../helpers/project.js';
import { freePort } from '../helpers/redis.js';
import { useFakeGitHubServer } from '../helpers/use-fake-github-server.js';
import { issueCommentCreatedPayload } from '../helpers/webhook-payloads.js';

/**
 * The registered app, started as `npm start` does (the real process): what the worker needs is checked
 * when it starts, with a message that says what to set; and deliveries reach the bot at the webhook URL
 * the setup page registered (the server's own URL, `/`) as well as at Probot's webhook path.
 */

const SECRET = 'worker-start-test-secret';
const { tempDir } = useTempDirs();
const fake = useFakeGitHubServer();
let dir: string;
let bot: BotProcess | undefined;

beforeEach(async () => {
  dir = await tempDir('code4py-start-');
});

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

function appEnv(port: number, more: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    APP_ID: String(testApp().appId),
    PRIVATE_KEY: testApp().privateKey,
    WEBHOOK_SECRET: SECRET,
    GHE_HOST: fake.server.host,
    GHE_PROTOCOL: 'http',
    PORT: String(port),
    HOST: '127.0.0.1',
    LOG_FORMAT: 'json',
    CODE4PY_DB_PATH: join(dir, 'code4py.db'),
    ...more,
  };
}

describe('the worker at start', () => {
  it('refuses to start without a model or a sandbox, and says what to set for each', async () => {
    const port = await freePort();
    bot = startBotProcess(appEnv(port, { CODE4PY_SANDBOX: 'docker', DOCKER_HOST: 'unix:///nonexistent/code4py-docker.sock' }), dir);
    // It ends by itself, with status 1 (a SIGTERM from the test must not be what ends it), and its port
    // never answered while it lived.
    let answered = false;
    const status = await sampleWhile(bot.exitStatus(), async () => {
      answered ||= await fetch(`http://127.0.0.1:${port}/ping`).then(
        () => true,
        () => false,
      );
    });
    expect(status).toBe(1);
    expect(answered).toBe(false);
    expect(bot.output()).toContain('code4py: the worker cannot start; it needs a model and a sandbox:\n  - the model: no model is configured: set OPENAI_API_KEY to your OpenAI API key, or point OPENAI_BASE_URL at an OpenAI-compatible server');
    expect(bot.output()).toMatch(/\n {2}- the sandbox: .*docker/);
    // It refused before its server started: Probot never said it was running or listening (the test below
    // shows those lines appear when it does start), and the bot never said it had started.
    expect(bot.output()).not.toMatch(/Running Probot|Listening on|bot started/);
  });

  it('starts with OPENAI_BASE_URL and no key (a local server needs none), and hears deliveries posted to / and to the webhook path', async () => {
    const port = await freePort();
    // Nothing listens at port 9; no model call happens for `help`.
    bot = startBotProcess(appEnv(port, { OPENAI_BASE_URL: 'http://127.0.0.1:9/v1' }), dir);
    await bot.waitFor(/"msg":"bot started"/);
    expect(bot.output()).toMatch(/Running Probot v/);
    expect(bot.output()).toContain(`Listening on http://127.0.0.1:${port}`);

    const comment = (path: string, id: string) => postWebhook(port, SECRET, { event: 'issue_comment', id, path, payload: issueCommentCreatedPayload({ sender: 'alice', body: '/code4py help', issue: { number: 1 } }) });
    expect(await comment('/', 'root-1')).toBe(200);
    const helpComments = () => [...fake.github.repo('octo/calc').comments.values()].filter((c) => c.author.login === fake.github.bot.login && c.body.includes('/code4py'));
    for (let i = 0; i < 300 && helpComments().length < 1; i++) await new Promise((r) => setTimeout(r, 50));
    expect(helpComments(), bot.output()).toHaveLength(1);

    expect(await comment('/api/github/webhooks', 'path-1')).toBe(200);
    for (let i = 0; i < 300 && helpComments().length < 2; i++) await new Promise((r) => setTimeout(r, 50));
    expect(helpComments()).toHaveLength(2);
    // A delivery to / is verified like any other.
    const forged = await fetch(`http://127.0.0.1:${port}/`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-github-event': 'issue_comment', 'x-github-delivery': 'forged-1', 'x-hub-signature-256': 'sha256=00' }, body: '{}' });
    expect(forged.status).toBe(400);
  });
});
