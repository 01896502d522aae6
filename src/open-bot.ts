import { createBot, type Bot } from './bot.js';
import { loadPriceTable } from './eval/prices.js';
import type { Env } from './env.js';
import { Metrics } from './ops/metrics.js';
import type { Readiness } from './ops/http.js';
import type { EmbeddedQueue } from './store/embedded-queue.js';
import { openRedisQueue, type RedisQueue } from './store/redis-queue.js';
import { openWorkerTools, type WorkerTools } from './worker-tools.js';

type Store = (EmbeddedQueue | RedisQueue) & { ping(): Promise<boolean>; close(): Promise<void> | void };

export interface OpenedBot {
  readonly bot: Bot;
  readonly metrics: Metrics;
  readonly readiness: Readiness;
  /** Which store holds the queue, for the start-up log line. */
  readonly storeKind: 'embedded' | 'redis';
  /** After the worker has drained: Ruff's worker thread and the store. */
  close(): Promise<void>;
}

/**
 * The bot's parts, from the environment: the worker's tools (checked first, so a missing model or sandbox
 * stops the start with what to set), the store (the embedded SQLite file, or Redis), metrics, readiness,
 * and the bot itself. Called when Probot loads the app, so Probot's setup mode opens none of them.
 */
export async function openBot(env: Env, state: { readonly stopping: boolean }): Promise<OpenedBot> {
  const prices = await loadPriceTable(env.CODE4PY_PRICES);
  const tools: WorkerTools | undefined = env.CODE4PY_ROLE === 'intake' ? undefined : await openWorkerTools(env);
  const store = await openStore(env).catch(async (error: unknown) => {
    await tools?.linter.close();
    throw error;
  });
  const metrics = new Metrics(() => store.counts());
  const readiness: Readiness = {
    check: async () => (state.stopping ? 'shutting down' : (await store.ping()) ? null : 'the task store does not answer'),
  };
  const bot = createBot({
    intake: store,
    queue: store,
    ...(tools ?? {}),
    baselines: store.baselines,
    prices,
    defaultModel: env.CODE4PY_MODEL,
    concurrency: env.CODE4PY_CONCURRENCY,
    role: env.CODE4PY_ROLE,
    metrics,
    budget: { store, ...(env.CODE4PY_DAILY_TOKENS_PER_INSTALLATION ? { dailyTokens: env.CODE4PY_DAILY_TOKENS_PER_INSTALLATION } : {}) },
  });
  return {
    bot,
    metrics,
    readiness,
    storeKind: env.REDIS_URL ? 'redis' : 'embedded',
    close: async () => {
      await tools?.linter.close();
      await store.close();
    },
  };
}

async function openStore(env: Env): Promise<Store> {
  if (env.REDIS_URL) {
    return openRedisQueue({ url: env.REDIS_URL, installationConcurrency: env.CODE4PY_INSTALLATION_CONCURRENCY });
  }
  // Loaded only here: Redis mode never needs the native SQLite module.
  const { openQueue } = await import('./store/embedded-queue.js');
  const queue = openQueue(env.CODE4PY_DB_PATH, { installationConcurrency: env.CODE4PY_INSTALLATION_CONCURRENCY });
  // Tasks that were running when the last process died are taken up again.
  queue.recoverOnStart();
  return Object.assign(queue, { ping: async () => queue.healthy() });
}
