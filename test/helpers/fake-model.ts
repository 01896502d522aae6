import { createServer, type Server, type ServerResponse } from 'node:http';
import type { Analysis, Solution } from '../../src/llm/index.js';

/** One scripted answer: a parsed JSON answer, raw text, or an HTTP error. */
export type ScriptedAnswer = Analysis | Solution | { raw: string } | { status: number; body?: string; headers?: Record<string, string> };

/** One `POST /v1/embeddings` request as received. */
export interface EmbeddingsRequest {
  readonly model: string;
  readonly input: string | readonly string[];
  readonly encoding_format?: string;
}

/**
 * A local OpenAI-compatible server on 127.0.0.1 (POST /v1/chat/completions) that answers from a script per
 * response_format name (`code4py_analysis`, `code4py_solution`), and records every raw request body.
 * `POST /v1/embeddings` answers with the vectors `embedWith` computes (or a scripted error), recorded apart.
 */
export class FakeModelServer {
  readonly bodies: string[] = [];
  readonly embeddingRequests: EmbeddingsRequest[] = [];
  private readonly scripts = new Map<string, ScriptedAnswer[]>();
  private embedder: ((text: string) => number[]) | undefined;
  private readonly embeddingErrors: Array<{ status: number; body?: string }> = [];
  private server: Server | undefined;
  baseUrl = '';

  /**
   * Scripts the answers to requests for `name`, in order. A test-strengthening request (a solution request
   * naming surviving mutants) is answered from `code4py_strengthen`; when none is scripted, with a solution
   * holding no file, which ends the round at once.
   */
  script(name: 'code4py_analysis' | 'code4py_solution' | 'code4py_strengthen', ...answers: ScriptedAnswer[]): this {
    this.scripts.set(name, [...(this.scripts.get(name) ?? []), ...answers]);
    return this;
  }

  /** How `/v1/embeddings` embeds each input text; without it, that endpoint answers 404 as a chat-only server does. */
  embedWith(embed: (text: string) => number[]): this {
    this.embedder = embed;
    return this;
  }

  /** The next embeddings requests get these HTTP errors, one each, before `embedWith` answers again. */
  failEmbeddings(...errors: Array<{ status: number; body?: string }>): this {
    this.embeddingErrors.push(...errors);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        if (request.url?.endsWith('/embeddings')) {
          this.embeddings(JSON.parse(body) as EmbeddingsRequest, response);
          return;
        }
        this.bodies.push(body);
        const parsed = JSON.parse(body) as ChatBody;
        const strengthening = isStrengthening(parsed);
        const name = strengthening ? 'code4py_strengthen' : answerName(parsed);
        const answer = this.scripts.get(name)?.shift() ?? (strengthening ? NO_STRONGER_TESTS : undefined);
        if (!answer) {
          response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: `no scripted answer left for ${name}` } }));
          return;
        }
        if ('status' in answer && typeof answer.status === 'number') {
          response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(answer.body ?? JSON.stringify({ error: { message: 'scripted error' } }));
          return;
        }
        const content = 'raw' in answer ? answer.raw : JSON.stringify(answer);
        response.writeHead(200, { 'content-type': 'application/json' }).end(
          JSON.stringify({
            id: 'chatcmpl-fake',
            object: 'chat.completion',
            created: 1_700_000_000,
            model: 'fake-model',
            choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content, refusal: null } }],
            usage: { prompt_tokens: 500, completion_tokens: 100, total_tokens: 600 },
          }),
        );
      });
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', resolve));
    const address = this.server.address() as { port: number };
    this.baseUrl = `http://127.0.0.1:${address.port}/v1`;
    return this;
  }

  private embeddings(request: EmbeddingsRequest, response: ServerResponse): void {
    this.embeddingRequests.push(request);
    const error = this.embeddingErrors.shift();
    if (error || !this.embedder) {
      const status = error?.status ?? 404;
      response.writeHead(status, { 'content-type': 'application/json' }).end(error?.body ?? JSON.stringify({ error: { message: status === 404 ? `model "${request.model}" not found` : 'scripted embeddings error' } }));
      return;
    }
    // The API takes one string or a list; Code4Py sends lists, but a fake should answer both as servers do.
    const input = typeof request.input === 'string' ? [request.input] : request.input;
    const data = input.map((text, index) => ({ object: 'embedding', index, embedding: this.embedder!(text) }));
    const tokens = input.reduce((n, text) => n + Math.ceil(text.length / 4), 0);
    response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ object: 'list', data, model: request.model, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
  }

  /**
   * What the model read in each chat request for `name`, in order: every message's text, one string a request.
   * `code4py_strengthen` gives the test-strengthening requests only; `code4py_solution` gives every request
   * for a solution, those included (they ask for the same answer format).
   */
  prompts(name: 'code4py_analysis' | 'code4py_solution' | 'code4py_strengthen'): string[] {
    return this.bodies
      .map((body) => JSON.parse(body) as ChatBody)
      .filter((body) => (name === 'code4py_strengthen' ? isStrengthening(body) : answerName(body) === name))
      .map((body) => body.messages.map((m) => m.content).join('\n'));
  }

  remaining(name: 'code4py_analysis' | 'code4py_solution' | 'code4py_strengthen'): number {
    return this.scripts.get(name)?.length ?? 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

interface ChatBody {
  readonly response_format?: { json_schema?: { name?: string } };
  readonly messages: ReadonlyArray<{ content: string }>;
}

const NO_STRONGER_TESTS: Solution = { summary: 'no stronger tests', files: [], dependencies: [] };

/** A solution request that asks for stronger tests against surviving mutants (src/llm/prompts/messages.ts). */
function isStrengthening(body: ChatBody): boolean {
  return body.messages.some((m) => m.content.includes('## Changes to the code that no test notices (mutants)'));
}

/** The answer a chat request asks for: its response_format's name, or (fenced fallback) the name its prompt gives. */
function answerName(body: ChatBody): string {
  return body.response_format?.json_schema?.name ?? (JSON.stringify(body.messages).includes('code4py_solution') ? 'code4py_solution' : 'code4py_analysis');
}
