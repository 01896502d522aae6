import { basename } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { modelEndpoint } from '../llm/endpoint.js';
import { DEFAULT_BASE_URL, OpenAIModelClient } from '../llm/index.js';
import { loadTranscript, recordTranscript, type Recorder, type TranscriptReplay } from '../llm/transcript.js';

/** The model's variables as the CLI reads them; the bot's own (src/env.ts) are not needed here. */
const ModelEnvSchema = z.object({
  OPENAI_API_KEY: z.string().min(1).optional(),
  OPENAI_BASE_URL: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://api.openai.com/v1 or http://localhost:11434/v1' }).optional(),
  CODE4PY_MODEL: z.string().trim().min(1).max(200).default('gpt-4o-mini'),
});

export interface ModelChoice {
  /** `--model`, over CODE4PY_MODEL. */
  readonly model?: string | undefined;
  /** `--record FILE`: append every exchange to FILE. */
  readonly record?: string | undefined;
  /** `--replay FILE`: answer every request from FILE; nothing is sent. */
  readonly replay?: string | undefined;
}

export interface ModelSetup {
  readonly client: OpenAIModelClient;
  readonly model: string;
  /** Where answers come from, for people: the server's host, or the transcript. */
  readonly endpoint: string;
  /** Where answers come from, for caches: the base URL, or the transcript's sha256. */
  readonly identity: string;
  readonly replay?: TranscriptReplay;
  readonly recorder?: Recorder;
}

/**
 * The model client of a CLI command: the OpenAI-compatible endpoint of OPENAI_BASE_URL (OpenAI's when
 * unset), with its key, or a transcript to record into or replay from.
 */
export async function openModel(env: NodeJS.ProcessEnv, choice: ModelChoice): Promise<ModelSetup> {
  const cleaned = Object.fromEntries(['OPENAI_API_KEY', 'OPENAI_BASE_URL', 'CODE4PY_MODEL'].filter((k) => env[k]).map((k) => [k, env[k]]));
  const parsed = ModelEnvSchema.safeParse(cleaned);
  if (!parsed.success) {
    throw new UsageError(`the environment is not usable:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  }
  const { OPENAI_API_KEY: apiKey, OPENAI_BASE_URL: baseURL, CODE4PY_MODEL } = parsed.data;
  const model = choice.model ?? CODE4PY_MODEL;
  if (choice.record && choice.replay) throw new UsageError('give --record FILE or --replay FILE, not both: a replay sends nothing to record.');
  const common = { model, secrets: [env.GITHUB_TOKEN, env.GH_TOKEN] };

  if (choice.replay) {
    // A replay sends nothing, so it needs no key: the base URL only names the transcript's server.
    const baseURLOrDefault = baseURL ?? DEFAULT_BASE_URL;
    const replay = await loadTranscript(choice.replay, baseURLOrDefault);
    // Recorded answers need no waiting: a recorded 429 or 500 is followed at once by its recorded retry.
    const client = new OpenAIModelClient({ ...common, baseURL: baseURLOrDefault, apiKey: apiKey ?? '', fetch: replay.fetch, sleep: async () => undefined });
    return { client, model, endpoint: `replay of ${basename(choice.replay)}`, identity: `replay:${replay.sha256}`, replay };
  }
  const endpoint = modelEndpoint({ OPENAI_API_KEY: apiKey, OPENAI_BASE_URL: baseURL }, '; or answer from a transcript with --replay FILE');
  const recorder = choice.record ? recordTranscript(choice.record, { baseURL: endpoint.baseURL }) : undefined;
  const client = new OpenAIModelClient({ ...common, ...endpoint, ...(recorder ? { fetch: recorder.fetch } : {}) });
  return { client, model, endpoint: client.host, identity: endpoint.baseURL, ...(recorder ? { recorder } : {}) };
}

/** The error to report: a replay miss explains itself better than the client's wrapping of it. */
export function explainModelError(setup: ModelSetup | undefined, error: unknown): unknown {
  return setup?.replay?.missError() ?? error;
}
