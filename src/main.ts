#!/usr/bin/env node
import { createProbot, ProbotOctokit, run } from 'probot';
import type { Logger } from 'pino';
import { applyDotEnv, readEnv, type Env } from './env.js';
import { errorMessage, UsageError } from './errors.js';
import { opsHandler, startOpsServer } from './ops/http.js';
import { createLogger } from './ops/log.js';
import { openBot, type OpenedBot } from './open-bot.js';
import { rootWebhooks } from './webhooks/root-path.js';

/**
 * `npm start`: the webhook server and the worker in one process (CODE4PY_ROLE=all), or, in Redis mode,
 * either part alone (`intake`, `worker`) so they scale apart. Without APP_ID and PRIVATE_KEY, Probot
 * serves its setup page instead, which registers the app from app.yml (the manifest flow); nothing else
 * is needed for that, not even a model.
 */
async function main(): Promise<void> {
  applyDotEnv(process.env);
  const env = readEnv(process.env);
  const log = createLogger({ level: env.LOG_LEVEL, format: env.LOG_FORMAT, secrets: [env.WEBHOOK_SECRET, env.PRIVATE_KEY, env.OPENAI_API_KEY, passwordOf(env.REDIS_URL)] });
  const state = { stopping: false };
  const started = env.CODE4PY_ROLE === 'worker' ? await startWorkerOnly(env, log, state) : await startServer(env, log, state);

  const shutdown = async (signal: string): Promise<void> => {
    if (state.stopping) return;
    state.stopping = true;
    if (started.bot) log.info({ signal, graceSeconds: env.CODE4PY_SHUTDOWN_GRACE_SECONDS }, 'shutting down: no new deliveries or tasks; running tasks may finish, the rest go back to the queue');
    else log.info({ signal }, 'shutting down the setup page');
    // Stop listening first (readiness already says so), so no delivery arrives that could not be queued.
    await started.stop().catch(() => undefined);
    if (started.bot) {
      await started.bot.bot.drain(env.CODE4PY_SHUTDOWN_GRACE_SECONDS * 1000).catch((error: unknown) => log.error({ error: errorMessage(error) }, 'could not drain the worker'));
      await started.bot.close();
    }
    log.info({}, 'stopped');
    log.flush();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

interface Started {
  /** Undefined in Probot's setup mode, where the app is not loaded. */
  readonly bot: OpenedBot | undefined;
  stop(): Promise<void>;
}

/** The webhook server (roles `all` and `intake`), or Probot's setup page when the app is not registered yet. */
async function startServer(env: Env, log: Logger, state: { readonly stopping: boolean }): Promise<Started> {
  if (!env.APP_ID && process.env.NODE_ENV === 'production') {
    throw new UsageError(
      'APP_ID is not set, and in production (NODE_ENV=production) Probot serves no setup page. Register the app first (`npm start` without NODE_ENV=production, then open /probot), then set APP_ID, PRIVATE_KEY and WEBHOOK_SECRET from the .env it writes.',
    );
  }
  let opened: OpenedBot | undefined;
  const probotSigint = new Set(process.listeners('SIGINT'));
  const server = await run(
    async (app, { addHandler }) => {
      opened = await openBot(env, state);
      addHandler(opsHandler(opened.metrics, opened.readiness));
      addHandler(await rootWebhooks(app));
      opened.bot.appFn(app);
    },
    { log, Octokit },
  );
  // Probot's run() adds a SIGINT listener that exits at once; ours lets running tasks finish first.
  for (const listener of process.listeners('SIGINT')) if (!probotSigint.has(listener)) process.off('SIGINT', listener);
  if (!opened) {
    const url = `http://${browsableHost(env.HOST ?? 'localhost')}:${server.port}/probot`;
    log.info({ url }, `setup mode: open ${url}`);
  } else {
    log.info({ role: env.CODE4PY_ROLE, store: opened.storeKind, port: server.port }, 'bot started');
  }
  return { bot: opened, stop: () => server.stop() };
}

/** A worker takes no webhooks: it authenticates as the app and serves only the operations endpoints. */
async function startWorkerOnly(env: Env, log: Logger, state: { readonly stopping: boolean }): Promise<Started> {
  if (!env.APP_ID) {
    throw new UsageError('a worker process (CODE4PY_ROLE=worker) acts as the app: set APP_ID and PRIVATE_KEY (or PRIVATE_KEY_PATH), as the .env that the setup page wrote has them.');
  }
  const opened = await openBot(env, state);
  opened.bot.startWorker(createProbot({ overrides: { log, Octokit } }));
  const ops = await startOpsServer(opsHandler(opened.metrics, opened.readiness), env.PORT, env.HOST);
  log.info({ port: env.PORT, store: opened.storeKind }, 'worker started');
  return { bot: opened, stop: () => new Promise<void>((resolve) => ops.close(() => resolve())) };
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

/** The address a person opens: a server listening on every interface is reached as localhost. */
function browsableHost(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '');
  if (bare === '0.0.0.0' || bare === '::') return 'localhost';
  return bare.includes(':') ? `[${bare}]` : bare;
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
