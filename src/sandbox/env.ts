import { z } from 'zod';
import { UsageError } from '../errors.js';
import { DEFAULT_PYTHON, SANDBOX_KINDS, type SandboxKind } from './select.js';

/** The sandbox's variables; the bot's whole environment (src/env.ts) includes them. */
export const SandboxEnvSchema = z.object({
  CODE4PY_SANDBOX: z.enum(SANDBOX_KINDS).default('auto'),
  CODE4PY_PYTHON: z.string().startsWith('/', 'must be an absolute path such as /usr/bin/python3').default(DEFAULT_PYTHON),
});

export interface SandboxEnv {
  readonly kind: SandboxKind;
  readonly python: string;
}

/** The sandbox settings of the environment. */
export function readSandboxEnv(env: NodeJS.ProcessEnv): SandboxEnv {
  const parsed = SandboxEnvSchema.safeParse({ CODE4PY_SANDBOX: env.CODE4PY_SANDBOX || undefined, CODE4PY_PYTHON: env.CODE4PY_PYTHON || undefined });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${issue?.path.join('.')}: ${issue?.message} (CODE4PY_SANDBOX is auto, bwrap or docker; CODE4PY_PYTHON a path)`);
  }
  return { kind: parsed.data.CODE4PY_SANDBOX, python: parsed.data.CODE4PY_PYTHON };
}
