import nock from 'nock';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { OpenAIModelClient, type ModelClientOptions } from '../../src/llm/client.js';
import type { Analysis, Solution } from '../../src/llm/schemas.js';
import type { AnalysisInput, SolutionInput } from '../../src/llm/types.js';

export const BASE_URL = 'https://models.test/v1';
export const API_KEY = 'sk-test-KEY0123456789abcdefghijklmnopqrstuv';
export const MODEL = 'test-model';

/** Network off for the file; every test must use all the mocks it declares. */
export function useStrictNock(): void {
  beforeAll(() => {
    nock.disableNetConnect();
    nock.enableNetConnect('127.0.0.1');
  });
  afterEach(() => {
    nock.cleanAll();
  });
  afterAll(() => {
    nock.enableNetConnect();
  });
}

export interface ChatRequestBody {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string; json_schema: { name: string; strict: boolean; schema: Record<string, unknown> } };
}

/** A scope on the fake endpoint that records every raw request body it receives, in order. */
export function modelEndpoint(): { scope: nock.Scope; raw: string[]; bodies: () => ChatRequestBody[] } {
  const scope = nock(BASE_URL).matchHeader('authorization', `Bearer ${API_KEY}`);
  const raw: string[] = [];
  scope.on('request', (_request: unknown, _interceptor: unknown, body: string) => raw.push(body));
  return { scope, raw, bodies: () => raw.map((b) => JSON.parse(b) as ChatRequestBody) };
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function completion(content: string, options: { finish?: string; usage?: Usage | null } = {}): object {
  const usage = options.usage === undefined ? { prompt_tokens: 100, completion_tokens: 20, total_tokens: 120 } : options.usage;
  return {
    id: 'chatcmpl-test',
    object: 'chat.completion',
    created: 1_700_000_000,
    model: MODEL,
    choices: [{ index: 0, finish_reason: options.finish ?? 'stop', message: { role: 'assistant', content, refusal: null } }],
    ...(usage ? { usage } : {}),
  };
}

export const ANALYSIS: Analysis = {
  intent: 'cli',
  title: 'Add a word-count tool',
  module: 'word_count',
  requirements: ['counts words in each file', 'prints a total'],
  assumptions: ['files are UTF-8'],
  needs_clarification: false,
  questions: [],
};

export const SOLUTION: Solution = {
  summary: 'Adds word_count.py and its tests.',
  files: [
    { path: 'word_count.py', content: 'def count_words(text: str) -> int:\n    return len(text.split())\n', patch: null },
    { path: 'tests/test_word_count.py', content: 'from word_count import count_words\n\ndef test_count():\n    assert count_words("a b") == 2\n', patch: null },
  ],
  dependencies: [],
};

export function analysisInput(body = 'Count the words in the files given on the command line.'): AnalysisInput {
  return { task: { number: 7, title: 'Word count CLI', body, comments: [{ author: 'octocat', body: 'Also print a total please.' }] } };
}

export function solutionInput(extra: Partial<SolutionInput> = {}): SolutionInput {
  return { ...analysisInput(), analysis: ANALYSIS, context: [{ path: 'README.md', content: '# Tools\n' }], ...extra };
}

/** A client with fast, recorded waits: `delays` lists every backoff it asked for. */
export function testClient(options: Partial<ModelClientOptions> = {}): { client: OpenAIModelClient; delays: number[] } {
  const delays: number[] = [];
  const client = new OpenAIModelClient({
    apiKey: API_KEY,
    baseURL: BASE_URL,
    model: MODEL,
    timeoutMs: 2_000,
    retry: { maxAttempts: 4, baseDelayMs: 10, maxDelayMs: 40, maxRetryAfterMs: 5_000 },
    sleep: async (ms) => {
      delays.push(ms);
    },
    random: () => 0.5,
    ...options,
  });
  return { client, delays };
}

/** The user message of a request (the one holding the task). */
export function userText(body: ChatRequestBody): string {
  return body.messages.filter((m) => m.role === 'user').map((m) => m.content).join('\n');
}
