#!/usr/bin/env node
import type { Server as HttpServer } from 'node:http';
import { createProbot, ProbotOctokit, run } from 'probot';
import { createBot } from './bot.js';
import { readEnv, type Env } from './env.js';
import { errorMessage } from './errors.js';
import { OpenAIModelClient } from './llm/index.js';
import { opsHandler, startOpsServer, type Readiness } from './ops/http.js';
import { createLogger } from './ops/log.js';
import { Metrics } from './ops/metrics.js';
import { getSandbox } from './sandbox/select.js';
import { openQueue, type EmbeddedQueue } from './store/embedded-queue.js';
import { openRedisQueue, type RedisQueue } from './store/redis-queue.js';
import { createRuffLinter } from './validate/ruff/ruff-linter.js';

/**
 * `npm start`: the webhook server and the worker in one process (CODE4PY_ROLE=all), or, in Redis mode,
 * either part alone (`intake`, `worker`) so they scale apart. Without APP_ID and PRIVATE_KEY, Probot
 * serves its setup page, which registers the app from app.yml (the manifest flow).
 */
async function main(): Promise<void> {
  const env = readEnv(process.env);
  const log = createLogger({ level: env.LOG_LEVEL, secrets: [env.WEBHOOK_SECRET, env.PRIVATE_KEY, env.OPENAI_API_KEY, passwordOf(env.REDIS_URL)] });
  const store = await openStore(env);
  const takesTasks = env.CODE4PY_ROLE !== 'intake';
  // Refuse to start when no sandbox works: the bot never runs generated code unsandboxed.
  const sandbox = takesTasks ? await getSandbox(env.CODE4PY_SANDBOX, env.CODE4PY_PYTHON, { dockerImage: env.CODE4PY_DOCKER_IMAGE }) : undefined;
  const linter = takesTasks ? createRuffLinter() : undefined;
  const model = takesTasks
    ? new OpenAIModelClient({
        apiKey: env.OPENAI_API_KEY!,
        ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
        model: env.CODE4PY_MODEL,
        secrets: [env.WEBHOOK_SECRET, env.PRIVATE_KEY],
      })
    : undefined;

  let stopping = false;
  const metrics = new Metrics(() => store.counts());
  const readiness: Readiness = {
    check: async () => (stopping ? 'shutting down' : (await store.ping()) ? null : 'the task store does not answer'),
  };
  const bot = createBot({
    intake: store,
    queue: store,
    ...(model && sandbox && linter ? { model, sandbox, linter } : {}),
    defaultModel: env.CODE4PY_MODEL,
    concurrency: env.CODE4PY_CONCURRENCY,
    role: env.CODE4PY_ROLE,
    metrics,
    budget: { store, ...(env.CODE4PY_DAILY_TOKENS_PER_INSTALLATION ? { dailyTokens: env.CODE4PY_DAILY_TOKENS_PER_INSTALLATION } : {}) },
  });

  // A worker takes no webhooks: it authenticates as the app and serves only the operations endpoints.
  let server: { stop(): Promise<void> };
  if (env.CODE4PY_ROLE === 'worker') {
    bot.startWorker(createProbot({ overrides: { log, Octokit } }));
    const ops: HttpServer = await startOpsServer(opsHandler(metrics, readiness), env.PORT, env.HOST);
    server = { stop: () => new Promise<void>((resolve) => ops.close(() => resolve())) };
    log.info({ port: env.PORT, store: env.REDIS_URL ? 'redis' : 'embedded' }, 'worker started');
  } else {
    const ops = opsHandler(metrics, readiness);
    server = await run(
      (app, { addHandler }) => {
        addHandler(ops);
        bot.appFn(app);
      },
      { log, Octokit },
    );
    log.info({ role: env.CODE4PY_ROLE, store: env.REDIS_URL ? 'redis' : 'embedded' }, 'bot started');
  }

  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    log.info({ signal, graceSeconds: env.CODE4PY_SHUTDOWN_GRACE_SECONDS }, 'shutting down: no new deliveries or tasks; running tasks may finish, the rest go back to the queue');
    // Stop listening first (readiness already says so), so no delivery arrives that could not be queued.
    await server.stop().catch(() => undefined);
    await bot.drain(env.CODE4PY_SHUTDOWN_GRACE_SECONDS * 1000).catch((error: unknown) => log.error({ error: errorMessage(error) }, 'could not drain the worker'));
    await linter?.close();
    await store.close();
    log.info('stopped');
    log.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

/**
 * Probot 14 gives the app's authentication a request of its own with github.com's base URL, so the worker's
 * `octokit.auth({ type: 'installation' })` (the token it must redact) asked api.github.com for a token even
 * with GHE_HOST set. A function default runs after Probot's own and points that request at GHE_HOST too.
 */
const Octokit = ProbotOctokit.defaults((options: Record<string, unknown>) => {
  const auth = options.auth as { request?: { defaults(o: { baseUrl: string }): unknown } } | undefined;
  return typeof options.baseUrl === 'string' && auth?.request ? { ...options, auth: { ...auth, request: auth.request.defaults({ baseUrl: options.baseUrl }) } } : options;
});

type Store = (EmbeddedQueue | RedisQueue) & { ping(): Promise<boolean>; close(): Promise<void> | void };

async function openStore(env: Env): Promise<Store> {
  if (env.REDIS_URL) {
    return openRedisQueue({ url: env.REDIS_URL, installationConcurrency: env.CODE4PY_INSTALLATION_CONCURRENCY });
  }
  const queue = openQueue(env.CODE4PY_DB_PATH, { installationConcurrency: env.CODE4PY_INSTALLATION_CONCURRENCY });
  // Tasks that were running when the last process died are taken up again.
  queue.recoverOnStart();
  return Object.assign(queue, { ping: async () => queue.healthy() });
}

function passwordOf(url: string | undefined): string | undefined {
  try {
    return url ? decodeURIComponent(new URL(url).password) || undefined : undefined;
  } catch {
    return undefined;
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`code4py: ${errorMessage(error)}\n`);
  process.exit(1);
});
