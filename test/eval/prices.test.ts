import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_PRICES, estimateCostUsd, loadPriceTable, priceOf, PRICES_ENV, withDefaultPrices } from '../../src/eval/prices.js';

/** The bot's price table: built in, overridden by the file the operator names in CODE4PY_PRICES. */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-price-table-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("the bot's price table", () => {
  it('is the built-in table when no file is named', async () => {
    const table = await loadPriceTable(undefined);
    expect(table['gpt-4o-mini']).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(Object.isFrozen(table)).toBe(true);
  });

  it("takes the operator's prices over the built-in ones, whatever the case of the names, and adds new models", async () => {
    const path = join(dir, 'prices.yml');
    await writeFile(path, 'GPT-4o-mini: {input: 1, output: 2}\nqwen2.5-coder:7b: {input: 0.05, output: 0.1}\n');
    const table = await loadPriceTable(path);
    expect(estimateCostUsd('gpt-4o-mini-2024-07-18', { prompt: 1_000_000, completion: 500_000 }, table)).toBe(2);
    expect(estimateCostUsd('qwen2.5-coder:7b', { prompt: 2_000_000, completion: 0 }, table)).toBeCloseTo(0.1);
    expect(estimateCostUsd('gpt-4o', { prompt: 1_000_000, completion: 0 }, table)).toBe(2.5);
  });

  it("is the same merge as `--prices`: an operator's `GPT-4o` replaces the built-in `gpt-4o`, which stays otherwise", () => {
    const table = withDefaultPrices({ 'GPT-4o': { input: 1, output: 1 } });
    expect(priceOf('gpt-4o', table)).toEqual({ price: { input: 1, output: 1 }, listedAs: 'gpt-4o' });
    expect(priceOf('gpt-4o-mini', table)?.price).toEqual(DEFAULT_PRICES['gpt-4o-mini']);
    expect(Object.isFrozen(table)).toBe(true);
  });

  it('prices by the built-in table when no table is given', () => {
    expect(estimateCostUsd('gpt-4o', { prompt: 1_000_000, completion: 0 })).toBe(2.5);
    expect(estimateCostUsd('llama3.1:8b', { prompt: 1000, completion: 1000 })).toBeNull();
  });

  it('knows no price for a model it does not list, rather than a wrong one', async () => {
    expect(estimateCostUsd('llama3.1:8b', { prompt: 1000, completion: 1000 }, await loadPriceTable(undefined))).toBeNull();
  });

  it('names the variable, the file and what is wrong when the file cannot be used', async () => {
    await expect(loadPriceTable(join(dir, 'missing.json'))).rejects.toThrow(new RegExp(`^${PRICES_ENV}: cannot read the price file .*missing\\.json: ENOENT`));
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"gpt-4o": {"input": "cheap", "output": 1}}');
    await expect(loadPriceTable(bad)).rejects.toThrow(/^CODE4PY_PRICES: .*bad\.json must map model names to prices in USD per million tokens/s);
  });
});
