import type { z } from 'zod';
import { describeIssues } from '../config/load.js';

export type Parsed<T> = { ok: true; value: T } | { ok: false; problems: string[] };

/**
 * Reads the protocol's JSON object out of an answer: the whole text when it is JSON (what
 * `response_format` gives), otherwise the last ```json fenced block that parses (models often draft
 * one, then correct it), then any fenced block, then the outermost braces. A closing fence may be
 * missing. JSON strings cannot hold a raw line break, so a line of three backticks always ends a block.
 */
export function extractJson(text: string): unknown {
  const trimmed = text.trim();
  const whole = tryParse(trimmed);
  if (whole !== undefined) return whole;
  const tagged = fencedBlocks(trimmed, /^[ \t]*```+[ \t]*json[^\n]*$/gim);
  const untagged = fencedBlocks(trimmed, /^[ \t]*```+[ \t]*$/gm);
  for (const block of [...tagged.reverse(), ...untagged.reverse()]) {
    const value = tryParse(block);
    if (value !== undefined) return value;
  }
  const first = trimmed.indexOf('{');
  const last = trimmed.lastIndexOf('}');
  return first !== -1 && last > first ? tryParse(trimmed.slice(first, last + 1)) : undefined;
}

function fencedBlocks(text: string, opener: RegExp): string[] {
  const blocks: string[] = [];
  for (const open of text.matchAll(opener)) {
    const start = open.index + open[0].length;
    const close = /^[ \t]*```+[ \t]*$/m.exec(text.slice(start + 1));
    blocks.push(text.slice(start, close ? start + 1 + close.index : undefined));
  }
  return blocks;
}

function tryParse(text: string): unknown {
  if (!/^\s*[{[]/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Turns an answer into the protocol's type, or into problems worded for the model's corrective retry.
 * The problems name keys and rules only, never values from the answer.
 */
export function parseAnswer<S extends z.ZodType>(
  schema: S,
  answer: { content: string; finishReason: string | null; refusal: string | null },
  fenced: boolean,
): Parsed<z.output<S>> {
  if (answer.refusal) return { ok: false, problems: ['the answer was a refusal instead of the JSON object'] };
  if (answer.finishReason === 'length') {
    return { ok: false, problems: ['the answer was cut off at the length limit before the JSON object was complete'] };
  }
  const json = extractJson(answer.content);
  if (json === undefined) {
    return {
      ok: false,
      problems: [fenced ? 'the answer holds no ```json fenced block with a valid JSON object' : 'the answer is not a valid JSON object'],
    };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { ok: true, value: parsed.data };
  return { ok: false, problems: describeIssues(parsed.error.issues).split('\n').map((line) => line.replace(/^\s*- /, '')) };
}
