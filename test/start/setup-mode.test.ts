import { copyFile, readdir } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBotProcess, type BotProcess } from '../helpers/bot-process.js';
import { useTempDirs } from '../helpers/project.js';
import { freePort } from '../helpers/redis.js';

/**
 * A newcomer's first `npm start`: no APP_ID, no model, nothing. The real process must serve Probot's setup
 * page, whose form posts the app's manifest to GitHub; the webhook URL in it must be one the registered
 * app's deliveries will reach (the webhook proxy when WEBHOOK_PROXY_URL is set).
 */

const { tempDir } = useTempDirs();
let cwd: string;
let bot: BotProcess | undefined;
let proxy: { server: Server; url: string; connections: string[]; streams: ServerResponse[] } | undefined;

beforeEach(async () => {
  // The folder `npm start` runs in: Probot reads app.yml and package.json from it, and writes .env there.
  cwd = await tempDir('code4py-setup-');
  for (const file of ['app.yml', 'package.json']) await copyFile(join(process.cwd(), file), join(cwd, file));
});

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
  if (proxy) {
    proxy.server.closeAllConnections();
    await new Promise((resolve) => proxy!.server.close(resolve));
  }
  proxy = undefined;
});

/** A webhook proxy channel on loopback (as smee.io serves one): an event stream that stays open. */
async function startProxyChannel(): Promise<NonNullable<typeof proxy>> {
  const connections: string[] = [];
  const streams: ServerResponse[] = [];
  const server = createServer((req, res) => {
    connections.push(`${req.method} ${req.url} ${req.headers.accept ?? ''}`);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    res.write(': ready\n\n');
    streams.push(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return { server, url: `http://127.0.0.1:${port}/code4py-test-channel`, connections, streams };
}

/** The manifest the setup page's "Register GitHub App" button posts to GitHub. */
function manifestOf(html: string): Record<string, unknown> {
  const value = /<button[^>]*name="manifest"[^>]*value='([^']*)'/.exec(html)?.[1];
  if (value === undefined) throw new Error(`no manifest button in the setup page:\n${html}`);
  return JSON.parse(value) as Record<string, unknown>;
}

/** Only what a shell needs: no APP_ID, no key, no model, no sandbox setting. */
function bareEnv(port: number, more: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: cwd, PORT: String(port), LOG_FORMAT: 'json', ...more };
}

describe('npm start with nothing configured (setup mode)', () => {
  it('serves the setup page whose manifest sends webhooks to WEBHOOK_PROXY_URL, and forwards from that channel', async () => {
    proxy = await startProxyChannel();
    const port = await freePort();
    bot = startBotProcess(bareEnv(port, { WEBHOOK_PROXY_URL: proxy.url }), cwd);

    const [, url] = await bot.waitFor(/"msg":"setup mode: open (http:\/\/[^"]+)"/);
    expect(url).toBe(`http://localhost:${port}/probot`);
    const page = await fetch(url!);
    expect(page.status).toBe(200);
    const manifest = manifestOf(await page.text());

    expect(manifest).toMatchObject({
      name: 'Code4Py',
      public: false,
      hook_attributes: { url: proxy.url },
      redirect_url: `http://localhost:${port}/probot/setup`,
      default_permissions: { contents: 'write', pull_requests: 'write', issues: 'write', checks: 'write', metadata: 'read' },
    });
    expect(manifest.default_events).toEqual(expect.arrayContaining(['issues', 'issue_comment', 'pull_request_review', 'pull_request_review_comment', 'check_run']));
    // smee-client (an optional dependency) listens on the channel, to forward deliveries to the local server.
    await bot.waitFor(/Connected to http:\/\/127\.0\.0\.1/);
    expect(proxy.connections).toEqual([expect.stringMatching(/^GET \/code4py-test-channel text\/event-stream/)]);
    // A delivery on the channel is posted to the local server's webhook path (unsigned here, so refused there).
    proxy.streams[0]!.write(`data: ${JSON.stringify({ 'x-github-event': 'ping', 'x-github-delivery': 'proxy-1', body: { zen: 'Keep it simple.' } })}\n\n`);
    await bot.waitFor(new RegExp(`POST http://127\\.0\\.0\\.1:${port}/api/github/webhooks - \\d{3}`));
    // Nothing of the bot was opened or checked: no store, no model, no sandbox.
    expect(await readdir(cwd)).toEqual(expect.not.arrayContaining(['.code4py']));
    expect(bot.output()).not.toMatch(/"level":(40|50|60)|OPENAI_API_KEY|sandbox/);
    expect(await bot.stop()).toBe(0);
  });

  it("without a proxy, registers the server's own URL as the webhook URL", async () => {
    const port = await freePort();
    // NO_SMEE_SETUP: Probot would otherwise ask smee.io for a channel, and tests never reach the internet.
    bot = startBotProcess(bareEnv(port, { NO_SMEE_SETUP: 'true' }), cwd);
    const [, url] = await bot.waitFor(/"msg":"setup mode: open (http:\/\/[^"]+)"/);
    const manifest = manifestOf(await (await fetch(url!)).text());
    expect(manifest.hook_attributes).toEqual({ url: `http://localhost:${port}/` });
  });
});
