import type { Env } from './env.js';
import { errorMessage, UsageError } from './errors.js';
import { modelEndpoint } from './llm/endpoint.js';
import { OpenAIModelClient } from './llm/index.js';
import { getSandbox, type ReadySandbox } from './sandbox/select.js';
import type { RuffLinter } from './validate/ruff/ruff-linter.js';
import { createRuffLinter } from './validate/ruff/ruff-linter.js';
import { botCacheDir, environmentSettingsOf } from './validate/environment/env.js';
import { environmentPort } from './validate/environment/port.js';
import { operatorLimitsOf, type OperatorLimits } from './validate/limits.js';
import type { EnvironmentPort } from './validate/pipeline.js';

/** What a process that works on tasks needs beside GitHub: the model, the sandbox and Ruff. */
export interface WorkerTools {
  readonly model: OpenAIModelClient;
  readonly sandbox: ReadySandbox;
  readonly linter: RuffLinter;
  /** The environment stage, installing each project's dependencies from the configured index. */
  readonly environment: EnvironmentPort;
  /** The most a repository may ask of a sandboxed run. */
  readonly maxima: OperatorLimits;
}

/**
 * Opens the worker's tools, checking each: a model endpoint must be configured (OPENAI_API_KEY for OpenAI
 * itself, OPENAI_BASE_URL for a server of one's own), and a sandbox must really run Python in isolation —
 * the bot never runs generated code unsandboxed. Called when the worker starts, not before: Probot's setup
 * mode and an intake process need neither. The error says what to set.
 */
export async function openWorkerTools(env: Env): Promise<WorkerTools> {
  const problems: string[] = [];
  let endpoint: ReturnType<typeof modelEndpoint> | undefined;
  try {
    endpoint = modelEndpoint(env);
  } catch (error) {
    problems.push(`the model: ${errorMessage(error)}`);
  }
  const sandbox = await getSandbox(env.CODE4PY_SANDBOX, env.CODE4PY_PYTHON, { dockerImage: env.CODE4PY_DOCKER_IMAGE }).catch((error: unknown) => {
    problems.push(`the sandbox: ${errorMessage(error)}`);
    return undefined;
  });
  if (!endpoint || !sandbox) {
    throw new UsageError(`the worker cannot start; it needs a model and a sandbox:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
  const model = new OpenAIModelClient({ ...endpoint, model: env.CODE4PY_MODEL, secrets: [env.WEBHOOK_SECRET, env.PRIVATE_KEY] });
  // Limits and pip settings from the environment readEnv parsed as a whole, not from process.env again.
  const settings = environmentSettingsOf(env, botCacheDir(env.CODE4PY_DB_PATH));
  return { model, sandbox, linter: createRuffLinter(), environment: environmentPort(sandbox, settings), maxima: operatorLimitsOf(env) };
}
