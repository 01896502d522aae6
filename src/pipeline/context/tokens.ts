import { encode, isWithinTokenLimit } from 'gpt-tokenizer';

/**
 * Repository text is data: a file that happens to contain `<|endoftext|>` must be counted as the plain text
 * the model receives, not refused (gpt-tokenizer throws on special tokens unless told otherwise).
 */
const AS_TEXT = { disallowedSpecial: new Set<string>() };

/**
 * What the prompt adds around each context file (src/llm/prompts/messages.ts): a `<<<FILE-<nonce>` line,
 * a `FILE-<nonce>>>>` line and the newline between blocks. The nonce is 16 random hex digits, so its cost
 * varies (18–38 tokens measured over 20,000 nonces with o200k); this bound holds for any nonce.
 */
export const FENCE_TOKENS = 48;

/** The section heading the prompt puts before the context files, and the blank line before it (about 9 tokens). */
export const SECTION_TOKENS = 16;

/** Tokens of a text as the model's tokenizer (o200k_base) counts them. */
export function countTokens(text: string): number {
  return encode(text, AS_TEXT).length;
}

/** The text of one context entry as the prompt shows it, before the fence. */
export function entryText(path: string, content: string): string {
  return `path: ${path}\n${content}`;
}

/** Tokens one entry costs in the prompt, fence included. */
export function entryTokens(path: string, content: string): number {
  return countTokens(entryText(path, content)) + FENCE_TOKENS;
}

/** The entry's cost when it is at most `limit`, else null; stops encoding a large file as soon as it is over. */
export function entryTokensWithin(path: string, content: string, limit: number): number | null {
  if (limit < FENCE_TOKENS) return null;
  const counted = isWithinTokenLimit(entryText(path, content), limit - FENCE_TOKENS, AS_TEXT);
  return counted === false ? null : counted + FENCE_TOKENS;
}
