import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { UsageError } from '../errors.js';

/** US dollars per million tokens, as providers quote them. */
export interface Price {
  readonly input: number;
  readonly output: number;
}

export type PriceTable = Readonly<Record<string, Price>>;

/**
 * The environment variable naming the operator's price file (JSON or YAML, the shape `--prices` takes),
 * read over the built-in table when the bot starts, so that pull requests state their cost in USD.
 */
export const PRICES_ENV = 'CODE4PY_PRICES';

/**
 * List prices of common hosted models (USD per million tokens, input / output, without cached-input or
 * batch discounts), as published when this table was written. Prices change: `--prices FILE` or
 * `--price IN/OUT` overrides them. A model that is not listed (a local Ollama or llama.cpp model) gets no
 * cost estimate rather than a wrong one.
 */
export const DEFAULT_PRICES: Readonly<Record<string, Price>> = Object.freeze({
  'gpt-4o-mini': { input: 0.15, output: 0.6 },
  'gpt-4o': { input: 2.5, output: 10 },
  'gpt-4.1': { input: 2, output: 8 },
  'gpt-4.1-mini': { input: 0.4, output: 1.6 },
  'gpt-4.1-nano': { input: 0.1, output: 0.4 },
  'o3-mini': { input: 1.1, output: 4.4 },
  'o4-mini': { input: 1.1, output: 4.4 },
  o3: { input: 2, output: 8 },
  'gpt-5': { input: 1.25, output: 10 },
  'gpt-5-mini': { input: 0.25, output: 2 },
  'gpt-5-nano': { input: 0.05, output: 0.4 },
});

/** One model's prices, as `--price` and a price file give them. */
export const PriceSchema = z.strictObject({
  input: z.number().nonnegative('a price in USD per million input tokens, such as 0.15'),
  output: z.number().nonnegative('a price in USD per million output tokens, such as 0.6'),
});
const PriceTableSchema = z.record(z.string().min(1), PriceSchema);

/** `--prices FILE`: a JSON or YAML mapping of model names to `{input, output}` in USD per million tokens. */
export async function loadPrices(path: string): Promise<Record<string, Price>> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the price file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  // Loaded here, not at the top: the CLI imports this module for --price, and YAML costs every command's start.
  const [{ parse: parseYaml }, { describeIssues }] = await Promise.all([import('yaml'), import('../config/load.js')]);
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new UsageError(`${path} is not valid JSON or YAML: ${(error as Error).message.split('\n')[0]}`);
  }
  const parsed = PriceTableSchema.safeParse(document);
  if (!parsed.success) {
    throw new UsageError(`${path} must map model names to prices in USD per million tokens, e.g. {"gpt-4o-mini": {"input": 0.15, "output": 0.6}}:\n${describeIssues(parsed.error.issues)}`);
  }
  return parsed.data;
}

/**
 * The bot's price table: the built-in one with the operator's file (`CODE4PY_PRICES`) over it, names
 * compared without case. A file that cannot be used stops the start with a message naming the variable.
 */
export async function loadPriceTable(path: string | undefined): Promise<PriceTable> {
  let own: Record<string, Price> = {};
  if (path !== undefined) {
    try {
      own = await loadPrices(path);
    } catch (error) {
      if (error instanceof UsageError) throw new UsageError(`${PRICES_ENV}: ${error.message}`);
      throw error;
    }
  }
  return withDefaultPrices(own);
}

/**
 * The built-in table with `own` over it — the one merge the bot (CODE4PY_PRICES) and `--prices` share:
 * names compared without case, so a `GPT-4o` of the operator's replaces the built-in `gpt-4o`.
 */
export function withDefaultPrices(own: Readonly<Record<string, Price>>): PriceTable {
  const merged: Record<string, Price> = {};
  for (const [name, price] of [...Object.entries(DEFAULT_PRICES), ...Object.entries(own)]) merged[name.trim().toLowerCase()] = price;
  return Object.freeze(merged);
}

/** What `tokens` of `model` cost in USD (by the built-in table unless one is given), or null when the table does not know the model. */
export function estimateCostUsd(model: string, tokens: { prompt: number; completion: number }, table: PriceTable = DEFAULT_PRICES): number | null {
  const found = priceOf(model, table);
  return found ? costUsd(tokens, found.price) : null;
}

/** `--price 0.15/0.6`: input and output prices of this run's model, in USD per million tokens. */
export function parsePrice(text: string): Price | null {
  const match = /^\s*(\d+(?:\.\d+)?)\s*[/,]\s*(\d+(?:\.\d+)?)\s*$/.exec(text);
  return match ? { input: Number(match[1]), output: Number(match[2]) } : null;
}

/**
 * The price of a model: the exact name, else the longest listed name it starts with (a dated snapshot
 * such as `gpt-4o-mini-2024-07-18` costs what `gpt-4o-mini` costs). Null when the table does not know it.
 */
export function priceOf(model: string, table: Readonly<Record<string, Price>>): { price: Price; listedAs: string } | null {
  const name = model.trim().toLowerCase();
  const entries = Object.entries(table).map(([k, v]) => [k.toLowerCase(), v] as const);
  const exact = entries.find(([k]) => k === name);
  if (exact) return { price: exact[1], listedAs: exact[0] };
  const prefix = entries.filter(([k]) => name.startsWith(`${k}-`)).sort((a, b) => b[0].length - a[0].length)[0];
  return prefix ? { price: prefix[1], listedAs: prefix[0] } : null;
}

export function costUsd(tokens: { prompt: number; completion: number }, price: Price): number {
  return (tokens.prompt * price.input + tokens.completion * price.output) / 1_000_000;
}
