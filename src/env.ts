import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseEnv } from 'node:util';
import { z } from 'zod';
import { UsageError } from './errors.js';
import { DockerEnvSchema } from './sandbox/docker.js';
import { SandboxEnvSchema } from './sandbox/env.js';
import { EnvironmentEnvSchema } from './validate/environment/env.js';
import { OperatorLimitsEnvSchema } from './validate/limits.js';

/**
 * The bot's own environment, parsed once. Probot reads its own variables (APP_ID, PRIVATE_KEY,
 * WEBHOOK_SECRET, PORT, HOST, GHE_HOST, WEBHOOK_PROXY_URL, …) itself. Nothing here is required: with no
 * APP_ID the bot starts in Probot's setup mode, and what the worker needs (the model endpoint, a sandbox)
 * is checked when the worker starts (worker-tools.ts).
 */
const EnvSchema = z.object({
  /** `all`: webhooks and worker in one process; `intake`: webhooks only; `worker`: tasks only (Redis mode scales these apart). */
  CODE4PY_ROLE: z.enum(['all', 'intake', 'worker'], { error: 'must be all, intake or worker' }).default('all'),
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1' }).optional(),
  CODE4PY_MODEL: z.string().min(1).default('gpt-4o-mini'),
  CODE4PY_DB_PATH: z.string().min(1).default('.code4py/code4py.db'),
  ...SandboxEnvSchema.shape,
  ...DockerEnvSchema.shape,
  ...OperatorLimitsEnvSchema.shape,
  ...EnvironmentEnvSchema.shape,
  /** A JSON or YAML file of model prices (USD per million tokens) over the built-in table, for the cost in pull requests. */
  CODE4PY_PRICES: z.string().min(1).optional(),
  CODE4PY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  REDIS_URL: z.url({ protocol: /^rediss?$/, error: 'must be a Redis URL such as redis://localhost:6379 (rediss:// for TLS)' }).optional(),
  /** Tasks of one installation running at once, across every process (fairness between installations). */
  CODE4PY_INSTALLATION_CONCURRENCY: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(1000).default(4),
  /** Model tokens one installation may spend per UTC day; unset for no limit. */
  CODE4PY_DAILY_TOKENS_PER_INSTALLATION: z.coerce.number({ error: 'must be a whole number of tokens' }).int().positive().optional(),
  /** On SIGTERM, how long running tasks may take to finish before they are given back to the queue. */
  CODE4PY_SHUTDOWN_GRACE_SECONDS: z.coerce.number({ error: 'must be a number of seconds' }).min(0).max(3600).default(25),
  PORT: z.coerce.number({ error: 'must be a port number' }).int().min(0).max(65535).default(3000),
  HOST: z.string().min(1).optional(),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], { error: 'must be trace, debug, info, warn, error or fatal' }).default('info'),
  /** Probot's: `pretty` or `json`; unset, pretty on a terminal and JSON lines otherwise. */
  LOG_FORMAT: z.enum(['pretty', 'json'], { error: 'must be pretty or json' }).optional(),
  /** Probot's; unset (or PRIVATE_KEY unset), Probot serves its setup page instead of the app. */
  APP_ID: z.string().regex(/^\d+$/, "must be the app's numeric id, as its settings page shows it").optional(),
  WEBHOOK_SECRET: z.string().optional(),
  PRIVATE_KEY: z.string().optional(),
});
export type Env = Readonly<z.infer<typeof EnvSchema>>;

export function readEnv(env: NodeJS.ProcessEnv): Env {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  const problems = parsed.success ? [] : parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`);
  if (cleaned.CODE4PY_ROLE && cleaned.CODE4PY_ROLE !== 'all' && !cleaned.REDIS_URL) {
    problems.push(`  - CODE4PY_ROLE: ${cleaned.CODE4PY_ROLE} needs REDIS_URL: separate intake and worker processes share their work through Redis (the embedded store serves one process)`);
  }
  if (!parsed.success || problems.length > 0) throw new UsageError(`the environment is not usable:\n${problems.join('\n')}`);
  return Object.freeze(parsed.data);
}

/**
 * Reads `.env` in the working folder into `env` as Probot's `run` does (its values win over the
 * environment's), so the bot sees what Probot will: the setup page writes APP_ID, PRIVATE_KEY and
 * WEBHOOK_SECRET there. A missing file is no error.
 */
export function applyDotEnv(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): void {
  let text: string;
  try {
    text = readFileSync(join(cwd, '.env'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new UsageError(`cannot read ${join(cwd, '.env')}: ${(error as Error).message}`);
  }
  Object.assign(env, parseEnv(text));
}
