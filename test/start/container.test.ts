import { readFile } from 'node:fs/promises';
import { networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startBotProcess, type BotProcess } from '../helpers/bot-process.js';
import { testApp } from '../helpers/fake-github.js';
import { useTempDirs } from '../helpers/project.js';
import { freePort } from '../helpers/redis.js';

/**
 * The Docker image, judged without a Docker engine (none runs on CI machines): the server started with the
 * image's own environment, read from the Dockerfile's ENV lines, must answer on an address other machines
 * can reach; and the image must not run as root. Only PORT and the database path are moved, to a free port
 * and a private folder.
 */

const { tempDir } = useTempDirs();
let dir: string;
let bot: BotProcess | undefined;

beforeEach(async () => {
  dir = await tempDir('code4py-image-env-');
});

afterEach(async () => {
  await bot?.stop();
  bot = undefined;
});

/** The final stage of the Dockerfile: its instructions, continuation lines joined. */
async function finalStage(): Promise<string[]> {
  const text = await readFile(join(process.cwd(), 'Dockerfile'), 'utf8');
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const from = lines.map((l) => /^FROM\s/i.test(l)).lastIndexOf(true);
  return lines.slice(from);
}

/** `ENV A=1 B="two words"` (and the old `ENV A 1`) of the final stage, in order. */
async function imageEnv(): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (const line of await finalStage()) {
    const rest = /^ENV\s+(.*)$/i.exec(line)?.[1];
    if (!rest) continue;
    if (!rest.includes('=')) {
      const [name = '', ...value] = rest.split(/\s+/);
      env[name] = value.join(' ');
      continue;
    }
    for (const m of rest.matchAll(/([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|\S*)/g)) env[m[1]!] = m[2]!.replace(/^"(.*)"$/, '$1');
  }
  return env;
}

/** An IPv4 address of this machine that is not loopback: what another machine (or Docker's port mapping) connects to. */
function outsideAddress(): string {
  const address = Object.values(networkInterfaces())
    .flat()
    .find((a) => a && !a.internal && a.family === 'IPv4')?.address;
  if (!address) throw new Error('this machine has no non-loopback IPv4 address to test with');
  return address;
}

async function answers(url: string): Promise<number | null> {
  return fetch(url, { signal: AbortSignal.timeout(3000) }).then(
    (r) => r.status,
    () => null,
  );
}

function appCredentials(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: dir,
    APP_ID: String(testApp().appId),
    PRIVATE_KEY: testApp().privateKey,
    WEBHOOK_SECRET: 'container-test-secret',
    // A local model server needs no key; nothing listens at port 9, and no task runs here.
    OPENAI_BASE_URL: 'http://127.0.0.1:9/v1',
    CODE4PY_DB_PATH: join(dir, 'code4py.db'),
  };
}

describe('the Docker image', () => {
  it("listens on every interface with the image's own environment, so a published port reaches it", async () => {
    const env = await imageEnv();
    expect(env).toMatchObject({ NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '3000' });
    const port = await freePort();
    bot = startBotProcess({ ...env, ...appCredentials(), PORT: String(port) }, dir);
    await bot.waitFor(/"msg":"bot started"/);

    expect(await answers(`http://${outsideAddress()}:${port}/ping`)).toBe(200);
    // The image's health check, at its port.
    const healthCheck = (await finalStage()).find((l) => l.startsWith('HEALTHCHECK'));
    const url = /(http:\/\/localhost:\$\{PORT\}\/\w+)/.exec(healthCheck ?? '')?.[1];
    expect(url).toBeDefined();
    expect(await answers(url!.replace('${PORT}', String(port)))).toBe(200);
  });

  it("is not reachable from outside with Probot's default host, which is why the image sets HOST", async () => {
    const { HOST: _host, ...env } = await imageEnv();
    const port = await freePort();
    bot = startBotProcess({ ...env, ...appCredentials(), PORT: String(port) }, dir);
    await bot.waitFor(/"msg":"bot started"/);
    expect(await answers(`http://127.0.0.1:${port}/ping`)).toBe(200);
    expect(await answers(`http://${outsideAddress()}:${port}/ping`)).toBeNull();
  });

  it('runs as a user that is not root', async () => {
    const user = (await finalStage()).filter((l) => /^USER\s/i.test(l)).at(-1)?.split(/\s+/)[1];
    expect(user).toBeDefined();
    expect(['root', '0'].includes(user!.split(':')[0]!)).toBe(false);
  });
});

describe('compose.yaml', () => {
  it('runs an intake and workers in Redis mode, the workers with the options bubblewrap needs in a container', async () => {
    const compose = parseYaml(await readFile(join(process.cwd(), 'compose.yaml'), 'utf8')) as { services: Record<string, { environment?: Record<string, string>; security_opt?: string[]; ports?: string[] }> };
    const { redis, intake, worker } = compose.services;
    expect(redis).toBeDefined();
    expect(intake?.environment).toMatchObject({ CODE4PY_ROLE: 'intake', REDIS_URL: 'redis://redis:6379' });
    expect(intake?.ports).toEqual(['3000:3000']);
    expect(worker?.environment).toMatchObject({ CODE4PY_ROLE: 'worker', REDIS_URL: 'redis://redis:6379' });
    expect(worker?.security_opt).toEqual(['seccomp=unconfined', 'apparmor=unconfined', 'systempaths=unconfined']);
    const docs = await readFile(join(process.cwd(), 'docs', 'operations.md'), 'utf8');
    for (const option of worker!.security_opt!) expect(docs).toContain(`--security-opt ${option}`);
  });
});
