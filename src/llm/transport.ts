import { setTimeout as delay } from 'node:timers/promises';
import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionCreateParamsNonStreaming, ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import type { TokenLedger } from './budget.js';
import { ModelRequestError, ModelUnavailableError } from './errors.js';
import { backoffMs, isRetryableStatus, retryAfterMs, type RetryPolicy } from './retry.js';
import { SecretRedactor } from './secrets.js';

export const DEFAULT_BASE_URL = 'https://api.openai.com/v1';

/**
 * The openai SDK as every call of ours uses it: explicit values (left undefined, the SDK would read
 * OPENAI_* from the environment behind our back; a local server such as Ollama needs no key, but the SDK
 * insists on one), no retries of its own (ours, or none), and no log lines (they could carry request details).
 */
export function openAISdk(options: { apiKey: string; baseURL?: string | undefined; timeoutMs: number; fetch?: typeof fetch | undefined }): OpenAI {
  return new OpenAI({
    apiKey: options.apiKey || 'no-key',
    baseURL: options.baseURL || DEFAULT_BASE_URL,
    maxRetries: 0,
    timeout: options.timeoutMs,
    logLevel: 'off',
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
}

/** Pino's (and so Probot's) logger shape: a metadata object, then a fixed message. */
export interface ModelLogger {
  info(meta: object, message: string): void;
  warn(meta: object, message: string): void;
}

export interface TransportOptions {
  apiKey: string;
  /** An OpenAI-compatible API root such as `http://localhost:11434/v1`; the SDK's default when unset. */
  baseURL?: string;
  /** Milliseconds one request may take, answer body included, before it counts as timed out. */
  timeoutMs: number;
  retry: RetryPolicy;
  redactor: SecretRedactor;
  log?: ModelLogger;
  /** Tests replace the wait between attempts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** A fetch implementation for the SDK (a transcript's recorder or replayer, tests); the SDK's default when unset. */
  fetch?: typeof fetch | undefined;
}

export interface ChatAnswer {
  content: string;
  finishReason: string | null;
  refusal: string | null;
}

type Failure = { retry: true; reason: string; status?: number; waitMs?: number } | { retry: false; error: Error };

/** One Chat Completions request with the retry policy, the per-request timeout, redaction and accounting. */
export class ChatTransport {
  private readonly sdk: OpenAI;
  readonly host: string;

  constructor(private readonly options: TransportOptions) {
    // Retries happen in complete(), once, with the policy the operator configured.
    this.sdk = openAISdk(options);
    this.host = new URL(this.sdk.baseURL).host;
  }

  async complete(body: ChatCompletionCreateParamsNonStreaming, ledger: TokenLedger, signal?: AbortSignal): Promise<ChatAnswer> {
    const { redactor, retry } = this.options;
    const messages = body.messages.map((m) => redactMessage(m, redactor));
    const request = { ...body, messages };
    for (let attempt = 1; ; attempt += 1) {
      signal?.throwIfAborted();
      ledger.assertCanSpend();
      const failure = await this.attempt(request, ledger, signal);
      if ('content' in failure) return failure;
      if (!failure.retry) throw failure.error;
      const meta = { host: this.host, model: body.model, attempt, status: failure.status };
      if (attempt >= retry.maxAttempts) {
        throw new ModelUnavailableError(
          `The model server at ${this.host} did not answer usably after ${attempt} attempt${attempt === 1 ? '' : 's'} (last: ${failure.reason}). ` +
            'Check that it is up and that OPENAI_BASE_URL points at it.',
          failure.status,
        );
      }
      if (failure.waitMs !== undefined && failure.waitMs > retry.maxRetryAfterMs) {
        throw new ModelUnavailableError(
          `The model server at ${this.host} asked to wait ${Math.ceil(failure.waitMs / 1000)} s before trying again ` +
            `(${failure.reason}), more than the ${Math.ceil(retry.maxRetryAfterMs / 1000)} s Code4Py waits. ` +
            'Try again later, or check the rate limits of the API key.',
          failure.status,
        );
      }
      const waitMs = failure.waitMs ?? backoffMs(retry, attempt, this.options.random);
      this.options.log?.warn({ ...meta, reason: failure.reason, waitMs }, 'model request failed; retrying');
      await (this.options.sleep ?? sleep)(waitMs, signal);
    }
  }

  private async attempt(request: ChatCompletionCreateParamsNonStreaming, ledger: TokenLedger, signal?: AbortSignal): Promise<ChatAnswer | Failure> {
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, this.options.timeoutMs);
    const onAbort = (): void => controller.abort();
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      const completion = await this.sdk.chat.completions.create(request, { signal: controller.signal, maxRetries: 0 });
      // A proxy's HTML page or a wrong base URL answers 200 too; the SDK hands that back as a string.
      if (!Array.isArray((completion as unknown as { choices?: unknown } | null)?.choices)) {
        return { retry: true, reason: 'the answer is not a chat completion (OPENAI_BASE_URL should be the API root, e.g. …/v1)' };
      }
      const choice = completion.choices[0];
      const answer: ChatAnswer = {
        content: choice?.message?.content ?? '',
        finishReason: choice?.finish_reason ?? null,
        refusal: choice?.message?.refusal ?? null,
      };
      ledger.record(completion.usage, { prompt: JSON.stringify(request.messages), completion: answer.content });
      return answer;
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      if (timedOut || error instanceof APIConnectionTimeoutError) {
        return { retry: true, reason: `no answer within ${seconds(this.options.timeoutMs)}` };
      }
      if (error instanceof SyntaxError) return { retry: true, reason: 'the answer is not valid JSON' };
      return this.classify(error, request.model);
    } finally {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private classify(error: unknown, model: string): Failure {
    if (error instanceof APIConnectionError) {
      return { retry: true, reason: `cannot connect (${connectionCause(error)})` };
    }
    if (!(error instanceof APIError) || error.status === undefined) return { retry: false, error: error as Error };
    const status = error.status;
    const said = this.serverMessage(error);
    const where = `The model server at ${this.host}`;
    if (status === 401 || status === 403) {
      return fail(`${where} refused the API key (${status}${said}). Check OPENAI_API_KEY, and that OPENAI_BASE_URL is the server the key belongs to.`, status);
    }
    if (status === 429 && error.code === 'insufficient_quota') {
      return fail(`${where} says the API key's quota is used up (429${said}). Check the account's billing and limits.`, status);
    }
    if (isRetryableStatus(status)) {
      return { retry: true, reason: `${status}${said}`, status, waitMs: retryAfterMs(error.headers) };
    }
    if (status === 404) {
      return fail(`${where} answered 404${said}: it has no model "${model}" or no /chat/completions. Check CODE4PY_MODEL (or \`model\` in .github/code4py.yml) and OPENAI_BASE_URL (usually ending in /v1).`, status);
    }
    return fail(`${where} rejected the request (${status}${said}).`, status);
  }

  /** The server's own explanation, shortened and redacted: it may echo the request. */
  private serverMessage(error: APIError): string {
    const body = error.error as { message?: unknown } | undefined;
    const text = typeof body?.message === 'string' ? body.message : '';
    if (!text) return '';
    const short = text.length > 300 ? `${text.slice(0, 300)}…` : text;
    return `: ${this.options.redactor.redact(short)}`;
  }
}

function seconds(ms: number): string {
  return ms < 1_000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}

function fail(message: string, status: number): Failure {
  return { retry: false, error: new ModelRequestError(message, status) };
}

function connectionCause(error: APIConnectionError): string {
  const cause = error.cause as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = cause?.code ?? cause?.cause?.code;
  return typeof code === 'string' ? code : 'connection error';
}

async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  try {
    await delay(ms, undefined, { signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    throw error;
  }
}

function redactMessage(message: ChatCompletionMessageParam, redactor: SecretRedactor): ChatCompletionMessageParam {
  if (typeof message.content === 'string') return { ...message, content: redactor.redact(message.content) } as ChatCompletionMessageParam;
  // The client only sends text; anything else would bypass redaction, so it is refused outright.
  throw new TypeError('model messages must have string content');
}
