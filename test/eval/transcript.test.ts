import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import { ModelRequestError, OpenAIModelClient, TokenLedger, type Analysis } from '../../src/llm/index.js';
import { loadTranscript, normaliseBody, recordTranscript, TranscriptMissError } from '../../src/llm/transcript.js';
import { FakeModelServer, type ScriptedAnswer } from '../helpers/fake-model.js';

const API_KEY = 'sk-test-transcript-0123456789abcdefghij';
const ANALYSIS: Analysis = { intent: 'algorithm', title: 'Add median', module: 'stats', requirements: ['median of a list'], assumptions: [], needs_clarification: false, questions: [] };
const TASK = { task: { title: 'Median', body: 'Add `median(values)`.', comments: [] } };

let server: FakeModelServer;
let dir: string;
beforeEach(async () => {
  server = await new FakeModelServer().start();
  dir = await mkdtemp(join(tmpdir(), 'code4py-transcript-'));
});
afterEach(async () => {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
});

function client(fetch: typeof globalThis.fetch, baseURL = server.baseUrl): OpenAIModelClient {
  return new OpenAIModelClient({ apiKey: API_KEY, baseURL, model: 'fake-model', fetch, retry: { baseDelayMs: 1, maxDelayMs: 2 }, sleep: async () => undefined });
}

/** Records one analysis of TASK (the server answering `answers` in turn) into a transcript: its path, the answer and the tokens. */
async function recordAnalysis(...answers: ScriptedAnswer[]): Promise<{ path: string; answer: Analysis; usage: TokenLedger }> {
  server.script('code4py_analysis', ...(answers.length ? answers : [ANALYSIS]));
  const path = join(dir, 't.jsonl');
  const recorder = recordTranscript(path, { baseURL: server.baseUrl });
  const usage = new TokenLedger();
  const answer = await client(recorder.fetch).analyse(TASK, usage);
  await recorder.flush();
  return { path, answer, usage };
}

describe('recording model exchanges', () => {
  it('appends one line per exchange with the request and the answer, and never a header or the API key', async () => {
    const { path, answer } = await recordAnalysis();

    expect(answer).toEqual(ANALYSIS);
    const text = await readFile(path, 'utf8');
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { request: { method: string; endpoint: string; body: { model: string } }; response: { status: number; body: string } });
    expect(lines).toHaveLength(1);
    expect(lines[0]!.request).toMatchObject({ method: 'POST', endpoint: 'chat/completions', body: { model: 'fake-model' } });
    expect(lines[0]!.response.status).toBe(200);
    expect(JSON.parse(JSON.parse(lines[0]!.response.body).choices[0].message.content)).toEqual(ANALYSIS);
    expect(text).not.toContain(API_KEY);
    expect(text.toLowerCase()).not.toContain('authorization');
  });
});

describe('replaying a transcript', () => {
  it('answers the same requests with the recorded answers and sends nothing, although each prompt has a fresh nonce', async () => {
    const { path, usage } = await recordAnalysis();
    await server.stop();

    const replay = await loadTranscript(path, server.baseUrl);
    const replayed = new TokenLedger();
    expect(await client(replay.fetch).analyse(TASK, replayed)).toEqual(ANALYSIS);
    expect(replayed.snapshot).toEqual(usage.snapshot);
    expect(replay.remaining).toBe(0);
    expect(server.bodies).toHaveLength(1);
  });

  it('replays a rate limit and its retry in the recorded order', async () => {
    const { path } = await recordAnalysis({ status: 429, headers: { 'retry-after': '0' } }, ANALYSIS);

    const replay = await loadTranscript(path, server.baseUrl);
    expect(replay.size).toBe(2);
    expect(await client(replay.fetch).analyse(TASK, new TokenLedger())).toEqual(ANALYSIS);
    expect(replay.remaining).toBe(0);
    expect(server.bodies).toHaveLength(2);
  });

  it('fails clearly, and at once, on a request the transcript does not hold, naming where it differs', async () => {
    const { path } = await recordAnalysis();

    const replay = await loadTranscript(path, server.baseUrl);
    const other = { task: { ...TASK.task, body: 'Add `mean(values)`.' } };
    await expect(client(replay.fetch).analyse(other, new TokenLedger())).rejects.toBeInstanceOf(ModelRequestError);
    // Not retried: one miss, and its explanation.
    expect(replay.misses).toHaveLength(1);
    const error = replay.missError();
    expect(error).toBeInstanceOf(TranscriptMissError);
    expect(error?.message).toContain(`no exchange in ${path} answers this request (POST chat/completions, model "fake-model", answer code4py_analysis)`);
    expect(error?.message).toMatch(/first differs at character \d+: sent "…[^"]*mean\(values\)/);
    expect(error?.message).toContain('--record');
  });

  it('answers a request as many times as it was recorded, then says the answers were used', async () => {
    const { path } = await recordAnalysis();

    const replay = await loadTranscript(path, server.baseUrl);
    await client(replay.fetch).analyse(TASK, new TokenLedger());
    await expect(client(replay.fetch).analyse(TASK, new TokenLedger())).rejects.toThrow(/already used/);
  });

  it('compares everything but the fence nonce and Python memory addresses', () => {
    const body = (nonce: string, address: string, model = 'm') =>
      JSON.stringify({ model, messages: [{ role: 'user', content: `<<<ISSUE-${nonce}\nx\nISSUE-${nonce}>>> <function f at ${address}>` }] });
    expect(normaliseBody(body('0123456789abcdef', '0x7f3a00001111'))).toBe(normaliseBody(body('fedcba9876543210', '0x7f0000aaaa22')));
    expect(normaliseBody(body('0123456789abcdef', '0x7f3a00001111'))).not.toBe(normaliseBody(body('0123456789abcdef', '0x7f3a00001111', 'n')));
  });

  it('names a line that is not an exchange, and a transcript that cannot be read', async () => {
    const path = join(dir, 'bad.jsonl');
    await writeFile(path, '{"v":1,"key":"abc"}\n');
    await expect(loadTranscript(path)).rejects.toThrow(new UsageError(`${path} line 1 is not a transcript exchange (key: Invalid string: must match pattern /^[0-9a-f]{64}$/).`));
    await writeFile(path, 'not json\n');
    await expect(loadTranscript(path)).rejects.toThrow(/line 1 is not JSON/);
    await expect(loadTranscript(join(dir, 'missing.jsonl'))).rejects.toThrow(/cannot read the transcript .*missing\.jsonl: ENOENT\. Record one first with --record/);
  });
});
