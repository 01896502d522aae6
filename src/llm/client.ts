import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';
import { parseAnswer } from './answer.js';
import type { TokenLedger } from './budget.js';
import { EmbeddingsTransport, type EmbedOptions } from './embeddings.js';
import { ModelOutputError, ModelRequestError } from './errors.js';
import { analysisMessages, correctiveMessage, fencedAnswerInstruction, solutionMessages } from './prompts/messages.js';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry.js';
import { ANSWER_KINDS, type Analysis, type AnswerName, type Solution } from './schemas.js';
import { SecretRedactor } from './secrets.js';
import { ChatTransport, type ChatAnswer, type ModelLogger } from './transport.js';
import type { AnalysisInput, CallOptions, ModelClient, SolutionInput } from './types.js';

export interface ModelClientOptions {
  /** OPENAI_API_KEY; may be empty for local servers that need none. Redacted from every prompt. */
  apiKey: string;
  /** OPENAI_BASE_URL, the API root (`…/v1`); OpenAI's when unset. */
  baseURL?: string;
  /** CODE4PY_MODEL: the model used when a call does not name one. */
  model: string;
  /** Milliseconds one request may take, answer included (default 180 s: local models are slow). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
  /** Further values that must never reach the model: the webhook secret, the private key, tokens. */
  secrets?: Iterable<string | undefined>;
  log?: ModelLogger;
  /** Tests replace the waits between attempts and the jitter. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  /** The HTTP layer under the SDK: recording or replaying a transcript (src/llm/transcript.ts), tests, proxies. */
  fetch?: typeof fetch;
}

export const DEFAULT_TIMEOUT_MS = 180_000;

const WHAT: Record<AnswerName, string> = { code4py_analysis: 'analysis', code4py_solution: 'solution' };

/**
 * The model client over Chat Completions. Structured output first; a server that
 * answers 400 to `response_format` is asked again for a fenced JSON block, and remembered, so later
 * calls go straight to the fallback. A malformed answer gets one corrective retry.
 */
export class OpenAIModelClient implements ModelClient {
  private readonly transport: ChatTransport;
  private readonly redactor: SecretRedactor;
  private readonly model: string;
  private readonly log: ModelLogger | undefined;
  /** False once this server has rejected `response_format` and accepted the fallback. */
  private structuredOutput = true;
  /** `POST /embeddings` on the same server, key and redaction (used only when a repository names an embeddings model). */
  private readonly embeddings: EmbeddingsTransport;

  constructor(options: ModelClientOptions) {
    this.redactor = new SecretRedactor([options.apiKey, ...(options.secrets ?? [])]);
    this.model = options.model;
    this.log = options.log;
    this.transport = new ChatTransport({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      retry: { ...DEFAULT_RETRY_POLICY, ...options.retry },
      redactor: this.redactor,
      log: options.log,
      sleep: options.sleep,
      random: options.random,
      fetch: options.fetch,
    });
    this.embeddings = new EmbeddingsTransport({ apiKey: options.apiKey, baseURL: options.baseURL, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS, redactor: this.redactor, fetch: options.fetch });
  }

  /** The host requests go to, for messages (never the key). */
  get host(): string {
    return this.transport.host;
  }

  /** Whether the server is (still) believed to accept `response_format: json_schema`. */
  get usesStructuredOutput(): boolean {
    return this.structuredOutput;
  }

  /** Registers a value that must never be sent, e.g. an installation token minted after start-up. */
  registerSecret(secret: string | undefined): void {
    this.redactor.register(secret);
  }

  analyse(input: AnalysisInput, usage: TokenLedger, options: CallOptions = {}): Promise<Analysis> {
    return this.ask('code4py_analysis', analysisMessages(input), usage, options);
  }

  solve(input: SolutionInput, usage: TokenLedger, options: CallOptions = {}): Promise<Solution> {
    return this.ask('code4py_solution', solutionMessages(input), usage, options);
  }

  /** One vector per text from `POST /embeddings`: redacted like every prompt, counted in `options.usage`, tried once. */
  embed(texts: readonly string[], options: EmbedOptions): Promise<number[][]> {
    return this.embeddings.embed(texts, options);
  }

  private async ask<N extends AnswerName>(
    name: N,
    messages: ChatCompletionMessageParam[],
    ledger: TokenLedger,
    options: CallOptions,
  ): Promise<N extends 'code4py_analysis' ? Analysis : Solution> {
    type Out = N extends 'code4py_analysis' ? Analysis : Solution;
    const model = options.model ?? this.model;
    let conversation = messages;
    let problems: string[] = [];
    for (let round = 1; round <= 2; round += 1) {
      const { answer, fenced } = await this.chat(name, model, conversation, ledger, options.signal);
      const parsed = parseAnswer(ANSWER_KINDS[name].schema, answer, fenced);
      if (parsed.ok) return parsed.value as Out;
      problems = parsed.problems;
      this.log?.warn({ host: this.host, model, answer: name, round, problems }, 'model answer unusable');
      const truncated = answer.finishReason === 'length';
      // A cut-off answer is not repeated back: it is long by definition and the model cannot extend it.
      const previous: ChatCompletionMessageParam[] = truncated || !answer.content ? [] : [{ role: 'assistant', content: answer.content }];
      conversation = [...messages, ...previous, { role: 'user', content: correctiveMessage(problems, truncated, fenced) }];
    }
    throw new ModelOutputError(
      `The model (${model} at ${this.host}) gave no usable ${WHAT[name]} even after being asked to correct it: ${problems.join('; ')}. ` +
        'Try again, or choose a more capable model (`model` in .github/code4py.yml, CODE4PY_MODEL, or the CLI\'s --model).',
      problems,
    );
  }

  private async chat(
    name: AnswerName,
    model: string,
    messages: ChatCompletionMessageParam[],
    ledger: TokenLedger,
    signal: AbortSignal | undefined,
  ): Promise<{ answer: ChatAnswer; fenced: boolean }> {
    const { jsonSchema } = ANSWER_KINDS[name];
    if (this.structuredOutput) {
      try {
        const response_format = { type: 'json_schema' as const, json_schema: { name, strict: true, schema: jsonSchema } };
        return { answer: await this.transport.complete({ model, messages, response_format }, ledger, signal), fenced: false };
      } catch (error) {
        if (!(error instanceof ModelRequestError && error.status === 400)) throw error;
        this.log?.warn({ host: this.host, model }, 'model server rejected response_format; asking for a fenced JSON block');
      }
    }
    const fallback = withSystemSuffix(messages, fencedAnswerInstruction(name, jsonSchema));
    const answer = await this.transport.complete({ model, messages: fallback }, ledger, signal);
    // Remembered only now: a 400 that the fallback also gets was about something else.
    if (this.structuredOutput) this.log?.info({ host: this.host, model }, 'model server uses fenced JSON answers from now on');
    this.structuredOutput = false;
    return { answer, fenced: true };
  }
}

function withSystemSuffix(messages: ChatCompletionMessageParam[], suffix: string): ChatCompletionMessageParam[] {
  // Appended to the one system message: several system messages confuse some local chat templates.
  return messages.map((m, i) => (i === 0 && m.role === 'system' && typeof m.content === 'string' ? { ...m, content: m.content + suffix } : m));
}
