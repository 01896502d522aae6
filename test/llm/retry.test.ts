import { describe, expect, it } from 'vitest';
import { TokenLedger } from '../../src/llm/budget.js';
import { ModelRequestError, ModelUnavailableError } from '../../src/llm/errors.js';
import { backoffMs, DEFAULT_RETRY_POLICY, retryAfterMs } from '../../src/llm/retry.js';
import { ANALYSIS, analysisInput, API_KEY, completion, modelEndpoint, testClient, useStrictNock } from './helpers.js';

useStrictNock();

const ok = () => completion(JSON.stringify(ANALYSIS));

describe('retry policy', () => {
  it('waits as long as retry-after says after a 429, then sends the same request again', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(429, { error: { message: 'Rate limit reached', code: 'rate_limit_exceeded' } }, { 'retry-after': '2' })
      .post('/chat/completions')
      .reply(200, ok());
    const { client, delays } = testClient();

    expect(await client.analyse(analysisInput(), new TokenLedger())).toEqual(ANALYSIS);

    scope.done();
    expect(delays).toEqual([2_000]);
    expect(raw).toHaveLength(2);
    expect(raw[1]).toBe(raw[0]);
  });

  it('really sleeps for retry-after-ms when no sleep is injected', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(429, { error: { message: 'slow down' } }, { 'retry-after-ms': '60', 'retry-after': '30' })
      .post('/chat/completions')
      .reply(200, ok());
    const { client } = testClient({ sleep: undefined });
    const started = performance.now();

    await client.analyse(analysisInput(), new TokenLedger());

    expect(performance.now() - started).toBeGreaterThanOrEqual(55);
    expect(raw).toHaveLength(2);
    scope.done();
  });

  it('backs off exponentially with jitter on 500, 500, then succeeds', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').twice().reply(500, { error: { message: 'upstream overloaded' } }).post('/chat/completions').reply(200, ok());
    const { client, delays } = testClient();
    const ledger = new TokenLedger();

    expect(await client.analyse(analysisInput(), ledger)).toEqual(ANALYSIS);

    scope.done();
    // base 10 ms, random 0.5: half the ceiling plus half of the other half.
    expect(delays).toEqual([8, 15]);
    expect(new Set(raw).size).toBe(1);
    expect(ledger.snapshot.calls).toBe(1);
  });

  it('gives up after four attempts with an error naming the host, never the key', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').times(4).reply(503, { error: { message: 'down for maintenance' } });
    const { client, delays } = testClient();

    const error = await client.analyse(analysisInput(), new TokenLedger()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelUnavailableError);
    expect((error as Error).message).toBe(
      'The model server at models.test did not answer usably after 4 attempts (last: 503: down for maintenance). ' +
        'Check that it is up and that OPENAI_BASE_URL points at it.',
    );
    expect((error as ModelUnavailableError).status).toBe(503);
    expect((error as Error).message).not.toContain(API_KEY);
    expect(delays).toEqual([8, 15, 30]);
    expect(raw).toHaveLength(4);
    scope.done();
  });

  it('caps the backoff at maxDelayMs', () => {
    const policy = { ...DEFAULT_RETRY_POLICY, baseDelayMs: 1_000, maxDelayMs: 5_000 };
    expect([1, 2, 3, 4, 5].map((n) => backoffMs(policy, n, () => 1))).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(backoffMs(policy, 3, () => 0)).toBe(2_000);
  });

  it('retries a connection error', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .replyWithError(Object.assign(new Error('connect ECONNRESET'), { code: 'ECONNRESET' }))
      .post('/chat/completions')
      .reply(200, ok());
    const { client, delays } = testClient();

    expect(await client.analyse(analysisInput(), new TokenLedger())).toEqual(ANALYSIS);

    expect(delays).toHaveLength(1);
    expect(raw).toHaveLength(2);
    scope.done();
  });

  it('treats an answer slower than the per-call timeout as a failure worth retrying', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').delay(1_000).reply(200, ok()).post('/chat/completions').reply(200, ok());
    const { client, delays } = testClient({ timeoutMs: 100 });
    const started = performance.now();

    expect(await client.analyse(analysisInput(), new TokenLedger())).toEqual(ANALYSIS);

    expect(performance.now() - started).toBeLessThan(900);
    expect(delays).toHaveLength(1);
    expect(raw).toHaveLength(2);
    scope.done();
  });

  it('says how long it waited when every attempt times out', async () => {
    const { scope } = modelEndpoint();
    scope.post('/chat/completions').twice().delay(1_000).reply(200, ok());
    const { client } = testClient({ timeoutMs: 100, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } });

    await expect(client.analyse(analysisInput(), new TokenLedger())).rejects.toThrow(
      /^The model server at models\.test did not answer usably after 2 attempts \(last: no answer within 100 ms\)/,
    );
    scope.done();
  });

  it('gives up at once when retry-after asks for more than maxRetryAfterMs', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(429, { error: { message: 'Rate limit reached' } }, { 'retry-after': '3600' });
    const { client, delays } = testClient();

    await expect(client.analyse(analysisInput(), new TokenLedger())).rejects.toThrow(
      'The model server at models.test asked to wait 3600 s before trying again (429: Rate limit reached), more than the 5 s Code4Py waits.',
    );
    expect(delays).toEqual([]);
    expect(raw).toHaveLength(1);
    scope.done();
  });

  it('does not retry a 401 and says to check OPENAI_API_KEY', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(401, { error: { message: `Incorrect API key provided: ${API_KEY}` } });
    const { client } = testClient();

    const error = await client.analyse(analysisInput(), new TokenLedger()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelRequestError);
    expect((error as Error).message).toBe(
      'The model server at models.test refused the API key (401: Incorrect API key provided: [REDACTED]). Check OPENAI_API_KEY, and that OPENAI_BASE_URL is the server the key belongs to.',
    );
    expect(raw).toHaveLength(1);
    scope.done();
  });

  it('does not retry an exhausted quota', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(429, { error: { message: 'You exceeded your current quota', code: 'insufficient_quota' } });
    const { client } = testClient();

    await expect(client.analyse(analysisInput(), new TokenLedger())).rejects.toThrow(/quota is used up \(429: You exceeded your current quota\)\. Check the account's billing/);
    expect(raw).toHaveLength(1);
    scope.done();
  });

  it('names the model and the settings to check on a 404', async () => {
    const { scope } = modelEndpoint();
    scope.post('/chat/completions').reply(404, { error: { message: 'model "nope" not found' } });
    const { client } = testClient();

    await expect(client.analyse(analysisInput(), new TokenLedger(), { model: 'nope' })).rejects.toThrow(
      'The model server at models.test answered 404: model "nope" not found: it has no model "nope" or no /chat/completions. Check CODE4PY_MODEL',
    );
    scope.done();
  });

  it('stops waiting and sends nothing more once the caller aborts', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(500, { error: { message: 'oops' } });
    const controller = new AbortController();
    const { client } = testClient({
      sleep: async () => {
        controller.abort(new Error('task cancelled'));
      },
    });

    await expect(client.analyse(analysisInput(), new TokenLedger(), { signal: controller.signal })).rejects.toThrow('task cancelled');
    expect(raw).toHaveLength(1);
    scope.done();
  });

  it('cancels a request in flight', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').delay(1_000).reply(200, ok());
    const { client, delays } = testClient();
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('shutting down')), 50);

    await expect(client.analyse(analysisInput(), new TokenLedger(), { signal: controller.signal })).rejects.toThrow('shutting down');
    expect(delays).toEqual([]);
    expect(raw).toHaveLength(1);
    scope.done();
  });
});

describe('retryAfterMs', () => {
  it('reads retry-after-ms, seconds and HTTP dates, and ignores nonsense', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '1500.5' }))).toBe(1501);
    expect(retryAfterMs(new Headers({ 'retry-after': '7' }))).toBe(7_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'Thu, 01 Jan 2026 00:00:30 GMT' }), now)).toBe(30_000);
    expect(retryAfterMs(new Headers({ 'retry-after': 'soon' }))).toBeUndefined();
    expect(retryAfterMs(new Headers())).toBeUndefined();
  });
});

describe('answers that are not chat completions', () => {
  it('retries a 200 that is an HTML page or broken JSON, then reports the server unavailable', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(200, '<html>proxy login</html>', { 'content-type': 'text/html' })
      .post('/chat/completions')
      .reply(200, '{"choices": [', { 'content-type': 'application/json' });
    const { client, delays } = testClient({ retry: { maxAttempts: 2 } });

    await expect(client.analyse(analysisInput(), new TokenLedger())).rejects.toThrow(
      'The model server at models.test did not answer usably after 2 attempts (last: the answer is not valid JSON).',
    );
    expect(delays).toHaveLength(1);
    expect(raw).toHaveLength(2);
    scope.done();
  });

  it('says when the server answers something other than a chat completion', async () => {
    const { scope } = modelEndpoint();
    scope.post('/chat/completions').reply(200, { object: 'list', data: [] });
    const { client } = testClient({ retry: { maxAttempts: 1 } });

    await expect(client.analyse(analysisInput(), new TokenLedger())).rejects.toThrow(
      'did not answer usably after 1 attempt (last: the answer is not a chat completion (OPENAI_BASE_URL should be the API root, e.g. …/v1)).',
    );
    scope.done();
  });
});
