import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cacheKey, ResultCache, type CacheIdentity } from '../../src/eval/cache.js';
import { renderComparison } from '../../src/eval/markdown.js';
import { costUsd, DEFAULT_PRICES, loadPrices, parsePrice, priceOf } from '../../src/eval/prices.js';
import { summarise, type ProblemResult, type ReportMeta } from '../../src/eval/report.js';

function result(taskId: string, over: Partial<ProblemResult> = {}): ProblemResult {
  return {
    taskId,
    passedFirst: true,
    passedFinal: true,
    attempts: 1,
    validationPassed: true,
    askedQuestions: false,
    modelTests: { cases: 3, passed: 3, allPassed: true },
    mutation: { before: 80, after: 80, strengthened: false },
    firstFailure: null,
    failure: null,
    detail: null,
    tokens: { prompt: 1000, completion: 200, total: 1200, calls: 2 },
    timeMs: { analysis: 100, context: 1, generation: 300, validation: 400, scoring: 350, total: 1200 },
    ...over,
  };
}

const META: ReportMeta = {
  model: 'gpt-4o-mini',
  endpoint: 'api.openai.com',
  dataset: { file: 'HumanEval.jsonl.gz', sha256: 'a'.repeat(64), problems: 164 },
  attempts: 3,
  promptVersion: 'test',
  complete: true,
  startedAt: '2026-01-01T00:00:00.000Z',
  durationMs: 5000,
  price: { input: 0.15, output: 0.6, listedAs: 'gpt-4o-mini' },
};

describe('the eval report', () => {
  it('counts pass@1 with the first answer and within K, the repairs, the tests that missed a bug and the failure classes', () => {
    const report = summarise(
      [
        result('P/0'),
        result('P/1', { passedFirst: false, attempts: 2, firstFailure: 'test-failure' }),
        result('P/2', { passedFirst: false, passedFinal: false, attempts: 3, validationPassed: false, firstFailure: 'syntax', failure: 'syntax', modelTests: { cases: 0, passed: 0, allPassed: false } }),
        // Its own tests passed, the hidden ones did not: a bug the model's tests missed.
        result('P/3', { passedFirst: false, passedFinal: false, firstFailure: 'test-failure', failure: 'test-failure', timeMs: { analysis: 0, context: 0, generation: 0, validation: 0, scoring: 0, total: 9000 } }),
      ],
      META,
    );
    expect(report).toMatchObject({ problems: 4, attempts: 3, passedFirst: 1, passedFinal: 2, passAt1: { first: 0.25, final: 0.5 }, validationPassed: 3, attemptsUsed: 7 });
    expect(report.modelTests).toEqual({ problems: 3, allPassed: 3, cases: 9, casesPassed: 9, passedButHiddenFailed: 1 });
    expect(report.failures).toEqual({ syntax: 1, import: 0, 'test-failure': 1, timeout: 0, 'unusable-output': 0, 'token-budget': 0 });
    expect(report.tokens).toEqual({ prompt: 4000, completion: 800, total: 4800, calls: 8 });
    expect(report.cost?.usd).toBeCloseTo((4000 * 0.15 + 800 * 0.6) / 1e6, 12);
    expect(report.timeMs.medianPerProblem).toBe(1200);
    expect(report.results.map((r) => r.taskId)).toEqual(['P/0', 'P/1', 'P/2', 'P/3']);
  });

  it('compares reports side by side and lists what only one of them solved', () => {
    const a = summarise([result('P/0'), result('P/1', { passedFirst: false, passedFinal: false, firstFailure: 'timeout', failure: 'timeout' })], META);
    const b = summarise([result('P/0', { passedFirst: false }), result('P/1', { passedFirst: false })], { ...META, model: 'qwen2.5-coder:7b', price: null });
    const markdown = renderComparison([
      { name: 'a.json', report: a },
      { name: 'b.json', report: b },
    ]);
    expect(markdown).toContain('| model | `gpt-4o-mini` | `qwen2.5-coder:7b` |');
    expect(markdown).toContain('| pass@1, first answer | **50.0%** (1) | **0.0%** (0) |');
    expect(markdown).toContain('| pass@1 within K attempts | **50.0%** (1) | **100.0%** (2) |');
    expect(markdown).toContain('| failed: timeout | 1 | 0 |');
    expect(markdown).toContain('| estimated cost | $0.0005 | n/a |');
    expect(markdown).toContain('Solved only by a.json (0)');
    expect(markdown).toContain('Solved only by b.json (1): P/1');
  });
});

describe('prices', () => {
  it('knows listed models, dated snapshots by their longest listed prefix, and nothing else', () => {
    expect(priceOf('gpt-4o-mini', DEFAULT_PRICES)).toEqual({ price: { input: 0.15, output: 0.6 }, listedAs: 'gpt-4o-mini' });
    expect(priceOf('gpt-4o-mini-2024-07-18', DEFAULT_PRICES)?.listedAs).toBe('gpt-4o-mini');
    expect(priceOf('gpt-4o-2024-08-06', DEFAULT_PRICES)?.listedAs).toBe('gpt-4o');
    expect(priceOf('qwen2.5-coder:7b', DEFAULT_PRICES)).toBeNull();
    expect(costUsd({ prompt: 2_000_000, completion: 1_000_000 }, { input: 0.15, output: 0.6 })).toBeCloseTo(0.9, 12);
  });

  it('reads --price and a price file, and says what is wrong with a bad one', async () => {
    expect(parsePrice('0.15/0.6')).toEqual({ input: 0.15, output: 0.6 });
    expect(parsePrice('3,15')).toEqual({ input: 3, output: 15 });
    expect(parsePrice('cheap')).toBeNull();
    const dir = await mkdtemp(join(tmpdir(), 'code4py-prices-'));
    try {
      await writeFile(join(dir, 'ok.yml'), 'local-model:\n  input: 0\n  output: 0\n');
      expect(await loadPrices(join(dir, 'ok.yml'))).toEqual({ 'local-model': { input: 0, output: 0 } });
      await writeFile(join(dir, 'bad.json'), '{"m": {"input": -1, "output": 2}}');
      await expect(loadPrices(join(dir, 'bad.json'))).rejects.toThrow(/must map model names to prices in USD per million tokens.*\n {2}- m\.input: a price in USD per million input tokens/s);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the per-problem cache', () => {
  const identity: CacheIdentity = { datasetSha256: 'd', model: 'm', endpoint: 'http://x/v1', attempts: 3, promptVersion: 'p', testTimeoutSeconds: 60, strengthen: 1 };
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'code4py-cache-'));
  });
  afterEach(() => rm(dir, { recursive: true, force: true }));

  it('gives back the results of the same setup, ignoring a line cut off by a kill', async () => {
    const path = join(dir, 'r.json.cache.jsonl');
    const cache = await ResultCache.open(path, cacheKey(identity));
    await cache.add(result('P/0'));
    await cache.add(result('P/1', { passedFinal: false, failure: 'import' }));
    await writeFile(path, `${await readFile(path, 'utf8')}{"taskId": "P/2", "passedFi`);
    const reopened = await ResultCache.open(path, cacheKey(identity));
    expect([...reopened.results.keys()]).toEqual(['P/0', 'P/1']);
    expect(reopened.results.get('P/1')?.failure).toBe('import');
    expect(reopened.discarded).toBeNull();
  });

  it('starts afresh for another model, K or prompt version', async () => {
    const path = join(dir, 'r.json.cache.jsonl');
    for (const change of [{ model: 'other' }, { attempts: 1 }, { promptVersion: 'q' }]) {
      // Each change against a file of the original setup, so that every field is checked on its own.
      await rm(path, { force: true });
      await (await ResultCache.open(path, cacheKey(identity))).add(result('P/0'));
      const reopened = await ResultCache.open(path, cacheKey({ ...identity, ...change }));
      expect(reopened.results.size).toBe(0);
      expect(reopened.discarded).toMatch(/another model, data file, number of attempts or prompt version/);
    }
  });
});
