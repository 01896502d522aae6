import { z } from 'zod';
import { UsageError } from '../errors.js';
import type { ValidationConfig } from '../config/schema.js';
import type { RunLimits } from '../sandbox/types.js';

const MiB = 1024 * 1024;

/** The most a repository's `.github/code4py.yml` may ask of a sandboxed run: the operator's to set. */
export interface OperatorLimits {
  readonly memoryMb: number;
  readonly processes: number;
  readonly timeoutSeconds: number;
  readonly outputMb: number;
}

export const DEFAULT_OPERATOR_LIMITS: OperatorLimits = Object.freeze({ memoryMb: 4096, processes: 1024, timeoutSeconds: 1800, outputMb: 16 });

const whole = (what: string) => z.coerce.number({ error: `must be a whole number of ${what}` }).int().positive();

/** The operator's variables for the maxima (limits up to operator maxima). */
export const OperatorLimitsEnvSchema = z.object({
  CODE4PY_MAX_MEMORY_MB: whole('MiB').default(DEFAULT_OPERATOR_LIMITS.memoryMb),
  CODE4PY_MAX_PROCESSES: whole('processes').default(DEFAULT_OPERATOR_LIMITS.processes),
  CODE4PY_MAX_TIMEOUT_SECONDS: whole('seconds').max(86_400).default(DEFAULT_OPERATOR_LIMITS.timeoutSeconds),
  CODE4PY_MAX_OUTPUT_MB: whole('MiB').default(DEFAULT_OPERATOR_LIMITS.outputMb),
});

export function readOperatorLimits(env: NodeJS.ProcessEnv): OperatorLimits {
  const pick = (name: keyof z.infer<typeof OperatorLimitsEnvSchema>) => env[name] || undefined;
  const parsed = OperatorLimitsEnvSchema.safeParse({
    CODE4PY_MAX_MEMORY_MB: pick('CODE4PY_MAX_MEMORY_MB'),
    CODE4PY_MAX_PROCESSES: pick('CODE4PY_MAX_PROCESSES'),
    CODE4PY_MAX_TIMEOUT_SECONDS: pick('CODE4PY_MAX_TIMEOUT_SECONDS'),
    CODE4PY_MAX_OUTPUT_MB: pick('CODE4PY_MAX_OUTPUT_MB'),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${issue?.path.join('.')}: ${issue?.message}`);
  }
  return operatorLimitsOf(parsed.data);
}

/** The maxima from variables already parsed with OperatorLimitsEnvSchema (the bot's environment is, as a whole). */
export function operatorLimitsOf(d: z.infer<typeof OperatorLimitsEnvSchema>): OperatorLimits {
  return { memoryMb: d.CODE4PY_MAX_MEMORY_MB, processes: d.CODE4PY_MAX_PROCESSES, timeoutSeconds: d.CODE4PY_MAX_TIMEOUT_SECONDS, outputMb: d.CODE4PY_MAX_OUTPUT_MB };
}

/** What a run gets: the repository's limits, each held to the operator's maximum; `notes` says which were lowered. */
export interface EffectiveLimits {
  readonly timeoutSeconds: number;
  readonly run: Partial<RunLimits>;
  readonly notes: readonly string[];
}

export function effectiveLimits(config: ValidationConfig, max: OperatorLimits = DEFAULT_OPERATOR_LIMITS): EffectiveLimits {
  const notes: string[] = [];
  const held = (key: string, asked: number, most: number, unit: string, variable: string): number => {
    if (asked <= most) return asked;
    notes.push(`${key} ${asked}${unit} is above the operator's maximum (${variable}=${most}); ${most}${unit} was used`);
    return most;
  };
  const memoryMb = held('limits.memory_mb', config.limits.memory_mb, max.memoryMb, ' MiB', 'CODE4PY_MAX_MEMORY_MB');
  const processes = held('limits.processes', config.limits.processes, max.processes, '', 'CODE4PY_MAX_PROCESSES');
  const outputMb = held('limits.output_mb', config.limits.output_mb, max.outputMb, ' MiB', 'CODE4PY_MAX_OUTPUT_MB');
  const timeoutSeconds = held('tests.timeout_seconds', config.tests.timeout_seconds, max.timeoutSeconds, ' s', 'CODE4PY_MAX_TIMEOUT_SECONDS');
  return { timeoutSeconds, run: { memoryBytes: memoryMb * MiB, processes, outputBytes: outputMb * MiB }, notes };
}
