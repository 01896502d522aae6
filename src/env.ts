import { z } from 'zod';
import { UsageError } from './errors.js';
import { SandboxEnvSchema } from './sandbox/env.js';

/**
 * The bot's own environment (DESIGN.md §3), parsed once. Probot reads its own variables (APP_ID,
 * PRIVATE_KEY, WEBHOOK_SECRET, PORT, GHE_HOST, LOG_LEVEL, …) itself.
 */
const EnvSchema = z.object({
  OPENAI_API_KEY: z.string({ error: 'required: set OPENAI_API_KEY (any non-empty value for a local server that needs no key)' }).min(1),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1' }).optional(),
  CODE4PY_MODEL: z.string().min(1).default('gpt-4o-mini'),
  CODE4PY_DB_PATH: z.string().min(1).default('.code4py/code4py.db'),
  ...SandboxEnvSchema.shape,
  CODE4PY_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
  WEBHOOK_SECRET: z.string().optional(),
  PRIVATE_KEY: z.string().optional(),
});
export type Env = Readonly<z.infer<typeof EnvSchema>>;

export function readEnv(env: NodeJS.ProcessEnv): Env {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== ''));
  const parsed = EnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n');
    throw new UsageError(`the environment is not usable:\n${lines}`);
  }
  return Object.freeze(parsed.data);
}
