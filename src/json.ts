import { createHash, randomUUID } from 'node:crypto';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { z } from 'zod';

/** A JSON text with object keys sorted, so that two equal values always read the same (cache keys, transcripts). */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}

/** JSON.parse for text a sandboxed run wrote: anything unparsable is null, to be rejected by the schema after it. */
export function parseJsonOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/**
 * A value kept as JSON in `dir`, in a file named by a hash of `identity` (what decides the value): read
 * when that file is there and reads as `schema`, else computed and written whole (a rename). The file is
 * only a cache: one that cannot be read counts as absent, and one that cannot be written is left out.
 */
export async function keptJson<T>(dir: string, identity: unknown, schema: z.ZodType<T>, compute: () => Promise<T>): Promise<T> {
  const file = join(dir, `${createHash('sha256').update(stableStringify(identity)).digest('hex').slice(0, 32)}.json`);
  const kept = schema.safeParse(parseJsonOrNull(await readFile(file, 'utf8').catch(() => '')));
  if (kept.success) return kept.data;
  const value = await compute();
  const staging = `${file}.${randomUUID()}.tmp`;
  try {
    await mkdir(dir, { recursive: true });
    await writeFile(staging, JSON.stringify(value));
    await rename(staging, file);
  } catch {
    await rm(staging, { force: true }).catch(() => undefined);
  }
  return value;
}
