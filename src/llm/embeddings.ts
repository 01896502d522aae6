import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import { z } from 'zod';
import type { TokenLedger } from './budget.js';
import { ModelOutputError, ModelRequestError, ModelUnavailableError } from './errors.js';
import type { SecretRedactor } from './secrets.js';
import { openAISdk } from './transport.js';

export interface EmbedOptions {
  /** The embeddings model (`context.embeddings_model`); chat models do not embed, so there is no default. */
  readonly model: string;
  /** The task's token account: an embeddings request spends from the same budget as the chat calls. */
  readonly usage: TokenLedger;
  readonly signal?: AbortSignal;
}

export interface EmbeddingsTransportOptions {
  readonly apiKey: string;
  readonly baseURL?: string | undefined;
  readonly timeoutMs: number;
  readonly redactor: SecretRedactor;
  /** A fetch implementation for the SDK (tests, proxies); the SDK's default when unset. */
  readonly fetch?: typeof fetch | undefined;
}

/** The fields of an embeddings answer that are used; compatible servers vary in the rest. */
const EmbeddingsAnswerSchema = z.object({
  data: z.array(z.object({ index: z.number().int().nonnegative(), embedding: z.array(z.number().finite()).min(1) })),
  usage: z.object({ prompt_tokens: z.number().int().nonnegative(), total_tokens: z.number().int().nonnegative() }).nullish(),
});

/**
 * `POST {OPENAI_BASE_URL}/embeddings` through the openai SDK, with the client's secret redaction and the task's
 * token ledger. One attempt, no retries: embeddings only refine a ranking that BM25 already made, so a
 * caller falls back to that ranking instead of making the task wait. Errors say what failed and where.
 */
export class EmbeddingsTransport {
  private readonly sdk: OpenAI;
  readonly host: string;

  constructor(private readonly options: EmbeddingsTransportOptions) {
    this.sdk = openAISdk(options);
    this.host = new URL(this.sdk.baseURL).host;
  }

  /** One vector per text, in the texts' order. An empty list makes no request. */
  async embed(texts: readonly string[], options: EmbedOptions): Promise<number[][]> {
    if (texts.length === 0) return [];
    options.signal?.throwIfAborted();
    options.usage.assertCanSpend();
    // The API refuses an empty string; a single space embeds as "nothing" on every server tried.
    const input = texts.map((t) => this.options.redactor.redact(t) || ' ');
    let raw: unknown;
    try {
      // `float`: the SDK would ask for base64 otherwise, which not every compatible server speaks.
      raw = await this.sdk.embeddings.create({ model: options.model, input, encoding_format: 'float' }, { ...(options.signal ? { signal: options.signal } : {}), maxRetries: 0 });
    } catch (error) {
      if (options.signal?.aborted) throw options.signal.reason;
      throw this.failure(error, options.model);
    }
    const parsed = EmbeddingsAnswerSchema.safeParse(raw);
    if (!parsed.success) {
      throw new ModelOutputError(`The embeddings answer of ${this.host} is not an embeddings list (OPENAI_BASE_URL should be the API root, e.g. …/v1).`, parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
    }
    const sorted = [...parsed.data.data].sort((a, b) => a.index - b.index);
    const vectors = sorted.map((d) => d.embedding);
    const dimensions = new Set(vectors.map((v) => v.length));
    if (vectors.length !== texts.length || dimensions.size !== 1 || sorted.some((d, i) => d.index !== i)) {
      throw new ModelOutputError(`The embeddings answer of ${this.host} does not match the request: ${vectors.length} vectors of ${[...dimensions].join('/')} dimensions for ${texts.length} texts.`, ['vector count or dimensions']);
    }
    const usage = parsed.data.usage;
    options.usage.record(usage ? { prompt_tokens: usage.prompt_tokens, completion_tokens: 0, total_tokens: usage.total_tokens } : null, { prompt: input.join('\n'), completion: '' });
    return vectors;
  }

  private failure(error: unknown, model: string): Error {
    const where = `The embeddings endpoint at ${this.host}`;
    if (error instanceof APIConnectionTimeoutError) return new ModelUnavailableError(`${where} did not answer within ${Math.round(this.options.timeoutMs / 1000)} s.`);
    if (error instanceof APIConnectionError) return new ModelUnavailableError(`${where} cannot be reached (${connectionCause(error)}).`);
    if (!(error instanceof APIError) || error.status === undefined) return error instanceof Error ? error : new Error(String(error));
    const body = error.error as { message?: unknown } | undefined;
    const said = typeof body?.message === 'string' && body.message ? `: ${this.options.redactor.redact(body.message.slice(0, 300))}` : '';
    if (error.status === 404) return new ModelRequestError(`${where} answered 404${said}: it has no embeddings model "${model}" or no /embeddings. Check \`context.embeddings_model\` in .github/code4py.yml.`, 404);
    if (error.status === 401 || error.status === 403) return new ModelRequestError(`${where} refused the API key (${error.status}${said}).`, error.status);
    if (error.status === 429 || error.status >= 500) return new ModelUnavailableError(`${where} answered ${error.status}${said}.`, error.status);
    return new ModelRequestError(`${where} rejected the request (${error.status}${said}).`, error.status);
  }
}

function connectionCause(error: APIConnectionError): string {
  const cause = error.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = cause?.code ?? cause?.cause?.code;
  return typeof code === 'string' ? code : 'connection error';
}
