import { createServer, type Server } from 'node:http';
import type { Analysis, Solution } from '../../src/llm/index.js';

/** One scripted answer: a parsed JSON answer, raw text, or an HTTP error. */
export type ScriptedAnswer = Analysis | Solution | { raw: string } | { status: number; body?: string; headers?: Record<string, string> };

/**
 * A local OpenAI-compatible server on 127.0.0.1 (POST /v1/chat/completions) that answers from a script per
 * response_format name (`code4py_analysis`, `code4py_solution`), and records every raw request body.
 */
export class FakeModelServer {
  readonly bodies: string[] = [];
  private readonly scripts = new Map<string, ScriptedAnswer[]>();
  private server: Server | undefined;
  baseUrl = '';

  script(name: 'code4py_analysis' | 'code4py_solution', ...answers: ScriptedAnswer[]): this {
    this.scripts.set(name, [...(this.scripts.get(name) ?? []), ...answers]);
    return this;
  }

  async start(): Promise<this> {
    this.server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        this.bodies.push(body);
        const parsed = JSON.parse(body) as { response_format?: { json_schema?: { name?: string } }; messages: { content: string }[] };
        const name = parsed.response_format?.json_schema?.name ?? (JSON.stringify(parsed.messages).includes('code4py_solution') ? 'code4py_solution' : 'code4py_analysis');
        const answer = this.scripts.get(name)?.shift();
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

  remaining(name: 'code4py_analysis' | 'code4py_solution'): number {
    return this.scripts.get(name)?.length ?? 0;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
