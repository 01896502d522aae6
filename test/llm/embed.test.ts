import { describe, expect, it } from 'vitest';
import { TokenLedger } from '../../src/llm/budget.js';
import { ModelOutputError, ModelRequestError, ModelUnavailableError, TokenBudgetExceededError } from '../../src/llm/errors.js';
import { REDACTED } from '../../src/llm/secrets.js';
import { API_KEY, modelEndpoint, testClient, useStrictNock } from './helpers.js';

useStrictNock();

interface EmbeddingsBody {
  model: string;
  input: string[];
  encoding_format?: string;
}

function answer(vectors: number[][], usage: { prompt_tokens: number; total_tokens: number } | null = { prompt_tokens: 12, total_tokens: 12 }): object {
  return { object: 'list', model: 'embed-small', data: vectors.map((embedding, index) => ({ object: 'embedding', index, embedding })), ...(usage ? { usage } : {}) };
}

describe('model client, embeddings', () => {
  it('posts the texts to /embeddings with the named model as floats, and returns one vector per text in order', async () => {
    const { scope, raw } = modelEndpoint();
    // The server lists the vectors out of order: `index` says which text each belongs to.
    scope.post('/embeddings').reply(200, { object: 'list', model: 'embed-small', data: [{ object: 'embedding', index: 1, embedding: [0, 1] }, { object: 'embedding', index: 0, embedding: [1, 0] }], usage: { prompt_tokens: 7, total_tokens: 7 } });
    const { client } = testClient();
    const usage = new TokenLedger();

    const vectors = await client.embed(['the task', 'billing/invoice.py'], { model: 'embed-small', usage });

    expect(vectors).toEqual([[1, 0], [0, 1]]);
    scope.done();
    const body = JSON.parse(raw[0]!) as EmbeddingsBody;
    expect(body).toEqual({ model: 'embed-small', input: ['the task', 'billing/invoice.py'], encoding_format: 'float' });
    expect(usage.snapshot).toEqual({ prompt: 7, completion: 0, total: 7, calls: 1, estimated: 0 });
  });

  it('redacts secrets from every text, as for the chat calls', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/embeddings').reply(200, answer([[1], [1]]));
    const token = `ghp_${'a1B2'.repeat(9)}`;
    const { client } = testClient({ secrets: ['webhook-secret-value'] });

    await client.embed([`def f():\n    """uses ${token}"""`, `key ${API_KEY} and webhook-secret-value`], { model: 'embed-small', usage: new TokenLedger() });

    scope.done();
    const sent = raw[0]!;
    for (const secret of [token, API_KEY, 'webhook-secret-value']) expect(sent).not.toContain(secret);
    expect((JSON.parse(sent) as EmbeddingsBody).input[0]).toContain(REDACTED);
  });

  it('estimates the tokens when the server reports no usage', async () => {
    const { scope } = modelEndpoint();
    scope.post('/embeddings').reply(200, answer([[1]], null));
    const { client } = testClient();
    const usage = new TokenLedger();
    await client.embed(['x'.repeat(30)], { model: 'embed-small', usage });
    expect(usage.snapshot).toMatchObject({ prompt: 10, completion: 0, total: 10, calls: 1, estimated: 1 });
  });

  it('makes no request for no text, nor once the task has spent its token budget', async () => {
    const { client } = testClient();
    await expect(client.embed([], { model: 'embed-small', usage: new TokenLedger() })).resolves.toEqual([]);
    await expect(client.embed(['x'], { model: 'embed-small', usage: new TokenLedger(1000, { total: 1000 }) })).rejects.toBeInstanceOf(TokenBudgetExceededError);
  });

  it('says which model to check when the server has none by that name (404), and tries once', async () => {
    const { scope } = modelEndpoint();
    scope.post('/embeddings').once().reply(404, { error: { message: 'model "embed-small" not found' } });
    const { client } = testClient();
    const error = await client.embed(['x'], { model: 'embed-small', usage: new TokenLedger() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelRequestError);
    expect((error as Error).message).toMatch(/embeddings endpoint at models\.test answered 404: model "embed-small" not found.*context\.embeddings_model/);
    scope.done();
  });

  it('reports a server error as unavailable, without retrying (the caller falls back to BM25)', async () => {
    const { scope } = modelEndpoint();
    scope.post('/embeddings').once().reply(503, { error: { message: 'overloaded' } });
    const { client, delays } = testClient();
    await expect(client.embed(['x'], { model: 'embed-small', usage: new TokenLedger() })).rejects.toBeInstanceOf(ModelUnavailableError);
    expect(delays).toEqual([]);
    scope.done();
  });

  it('refuses an answer whose vectors do not match the texts', async () => {
    const { scope } = modelEndpoint();
    scope.post('/embeddings').reply(200, answer([[1, 0]]));
    scope.post('/embeddings').reply(200, answer([[1, 0], [1]]));
    scope.post('/embeddings').reply(200, '<html>proxy login</html>', { 'content-type': 'text/html' });
    const { client } = testClient();
    const usage = new TokenLedger();
    await expect(client.embed(['a', 'b'], { model: 'embed-small', usage })).rejects.toThrow(/1 vectors of 2 dimensions for 2 texts/);
    await expect(client.embed(['a', 'b'], { model: 'embed-small', usage })).rejects.toThrow(/2 vectors of 2\/1 dimensions for 2 texts/);
    await expect(client.embed(['a'], { model: 'embed-small', usage })).rejects.toBeInstanceOf(ModelOutputError);
    expect(usage.snapshot.calls).toBe(0);
    scope.done();
  });
});
