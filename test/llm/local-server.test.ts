import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { TokenLedger } from '../../src/llm/budget.js';
import { OpenAIModelClient } from '../../src/llm/client.js';
import { ModelUnavailableError } from '../../src/llm/errors.js';
import { ANALYSIS, analysisInput, completion, SOLUTION, solutionInput, useStrictNock, type ChatRequestBody } from './helpers.js';

useStrictNock();

interface Seen {
  path: string;
  authorization: string | undefined;
  body: ChatRequestBody;
}

/** A stand-in for a llama.cpp or older Ollama server on loopback: no response_format, fenced answers. */
async function fakeServer(): Promise<{ server: Server; url: string; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = createServer(async (request: IncomingMessage, response) => {
    let text = '';
    for await (const chunk of request) text += String(chunk);
    const body = JSON.parse(text) as ChatRequestBody;
    seen.push({ path: request.url ?? '', authorization: request.headers.authorization, body });
    response.setHeader('content-type', 'application/json');
    if (body.response_format) {
      response.statusCode = 400;
      response.end(JSON.stringify({ error: { message: "'response_format' is not supported", type: 'invalid_request_error' } }));
      return;
    }
    const answer = body.messages[0]!.content.includes('code4py_solution') ? SOLUTION : ANALYSIS;
    response.end(JSON.stringify(completion(`Sure.\n\`\`\`json\n${JSON.stringify(answer)}\n\`\`\``)));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`, seen };
}

let running: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => running?.close(resolve) ?? resolve(undefined));
  running = undefined;
});

describe('a local OpenAI-compatible server', () => {
  it('works without an API key through the fenced-block fallback', async () => {
    const { server, url, seen } = await fakeServer();
    running = server;
    const client = new OpenAIModelClient({ apiKey: '', baseURL: url, model: 'qwen2.5-coder:7b', retry: { maxAttempts: 1 } });
    const ledger = new TokenLedger();

    expect(await client.analyse(analysisInput(), ledger)).toEqual(ANALYSIS);
    expect(await client.solve(solutionInput(), ledger)).toEqual(SOLUTION);

    expect(seen.map((s) => [s.path, s.body.model, s.body.response_format?.type ?? null])).toEqual([
      ['/v1/chat/completions', 'qwen2.5-coder:7b', 'json_schema'],
      ['/v1/chat/completions', 'qwen2.5-coder:7b', null],
      ['/v1/chat/completions', 'qwen2.5-coder:7b', null],
    ]);
    expect(seen[0]!.authorization).toBe('Bearer no-key');
    expect(ledger.snapshot.calls).toBe(2);
  });

  it('reports a server that is not listening as unavailable, naming its address', async () => {
    const { server, url } = await fakeServer();
    await new Promise((resolve) => server.close(resolve));
    const client = new OpenAIModelClient({ apiKey: 'k-local-secret', baseURL: url, model: 'm', retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });

    const error = await client.analyse(analysisInput(), new TokenLedger()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toMatch(/^The model server at 127\.0\.0\.1:\d+ did not answer usably after 2 attempts \(last: cannot connect \(ECONNREFUSED\)\)/);
    expect((error as Error).message).not.toContain('k-local-secret');
  });
});
