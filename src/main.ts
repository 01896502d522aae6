#!/usr/bin/env node
import { run } from 'probot';
import { createBot } from './bot.js';
import { readEnv } from './env.js';
import { errorMessage } from './errors.js';
import { OpenAIModelClient } from './llm/index.js';
import { openQueue } from './store/embedded-queue.js';
import { getSandbox } from './sandbox/select.js';
import { createRuffLinter } from './validate/ruff/ruff-linter.js';

/**
 * `npm start`: the webhook server and the worker in one process. Without APP_ID and PRIVATE_KEY, Probot
 * serves its setup page, which registers the app from app.yml (the manifest flow).
 */
async function main(): Promise<void> {
  const env = readEnv(process.env);
  // Refuse to start when no sandbox works: the bot never runs generated code unsandboxed.
  const sandbox = await getSandbox(env.CODE4PY_SANDBOX, env.CODE4PY_PYTHON);
  const queue = openQueue(env.CODE4PY_DB_PATH);
  // Tasks that were running when the last process died are taken up again.
  queue.recoverOnStart();
  const linter = createRuffLinter();
  const model = new OpenAIModelClient({
    apiKey: env.OPENAI_API_KEY,
    ...(env.OPENAI_BASE_URL ? { baseURL: env.OPENAI_BASE_URL } : {}),
    model: env.CODE4PY_MODEL,
    secrets: [env.WEBHOOK_SECRET, env.PRIVATE_KEY],
  });
  const bot = createBot({ intake: queue, queue, model, defaultModel: env.CODE4PY_MODEL, sandbox, linter, concurrency: env.CODE4PY_CONCURRENCY });
  const server = await run(bot.appFn);

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`code4py: ${signal}: finishing; running tasks are given back to the queue\n`);
    await server.stop().catch(() => undefined);
    await bot.stop().catch(() => undefined);
    await linter.close();
    queue.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`code4py: ${errorMessage(error)}\n`);
  process.exit(1);
});
