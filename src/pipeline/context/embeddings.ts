import type { EmbedOptions, TokenLedger } from '../../llm/index.js';
import { errorMessage } from '../../errors.js';
import type { Scored } from './bm25.js';
import { compare } from './repo-map.js';

/** What can embed: the model client (its `embed` is optional, as not every server has embeddings). */
export interface Embedder {
  embed?(texts: readonly string[], options: EmbedOptions): Promise<number[][]>;
}

export interface EmbeddingsSetup {
  /** `context.embeddings_model`. */
  readonly model: string;
  readonly embedder: Embedder;
  /** The task's token account; embeddings spend from the same budget as the chat calls. */
  readonly usage: TokenLedger;
}

/** How many of BM25's best modules are reranked: enough to find what words missed, few enough for one or two requests. */
export const EMBEDDING_CANDIDATES = 50;
/** Texts per embeddings request; the first request also carries the task. */
export const EMBEDDING_BATCH = 32;
/** Reciprocal-rank fusion's constant (Cormack et al.'s 60): damps the difference between neighbouring ranks. */
export const RRF_K = 60;
/** A module's map entry is its summary; past this, an entry is a long list of names that says little more. */
const SUMMARY_CHARS = 2_000;
/** The task as embedded; embedding models read a few thousand tokens at most. */
const TASK_CHARS = 6_000;

export type Similarities = ReadonlyMap<string, number>;

/**
 * The cosine similarity of each candidate's summary to the task, from the embeddings model, in batches.
 * Any failure (server error, unknown model, malformed answer, token budget) is returned as a problem for
 * the caller to fall back on; only a cancellation is thrown, so that `cancel` still stops the task.
 */
export async function embedCandidates(
  task: string,
  candidates: ReadonlyArray<{ id: string; summary: string }>,
  setup: EmbeddingsSetup,
  signal?: AbortSignal,
): Promise<{ ok: true; similarities: Similarities } | { ok: false; problem: string }> {
  const embed = setup.embedder.embed?.bind(setup.embedder);
  if (!embed) return { ok: false, problem: 'the model client cannot make embeddings' };
  if (candidates.length === 0) return { ok: true, similarities: new Map() };
  const texts = [task.slice(0, TASK_CHARS), ...candidates.map((c) => c.summary.slice(0, SUMMARY_CHARS))];
  const vectors: number[][] = [];
  try {
    for (let start = 0; start < texts.length; start += EMBEDDING_BATCH) {
      vectors.push(...(await embed(texts.slice(start, start + EMBEDDING_BATCH), { model: setup.model, usage: setup.usage, ...(signal ? { signal } : {}) })));
    }
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const message = errorMessage(error);
    return { ok: false, problem: message.length > 300 ? `${message.slice(0, 297)}…` : message };
  }
  const [query, ...rest] = vectors;
  if (!query || rest.length !== candidates.length || vectors.some((v) => v.length !== query.length)) {
    return { ok: false, problem: 'the embeddings did not come back one per text with the same dimensions' };
  }
  return { ok: true, similarities: new Map(candidates.map((c, i) => [c.id, cosine(query, rest[i]!)])) };
}

/**
 * BM25's ranking with its first candidates reordered by reciprocal-rank fusion with the embeddings'
 * ranking: each scores 1/(RRF_K + rank) in both lists, summed. Ties go to the closer embedding, then the
 * path, so the same answers give the same order. Modules past the candidates keep BM25's order after them.
 */
export function fuseRankings(bm25: readonly Scored[], similarities: Similarities): string[] {
  const candidates = bm25.filter((s) => similarities.has(s.id));
  const byMeaning = [...candidates].sort((a, b) => similarities.get(b.id)! - similarities.get(a.id)! || compare(a.id, b.id));
  const meaningRank = new Map(byMeaning.map((s, i) => [s.id, i + 1]));
  const fused = candidates.map((s, i) => ({ id: s.id, score: 1 / (RRF_K + i + 1) + 1 / (RRF_K + meaningRank.get(s.id)!), similarity: similarities.get(s.id)! }));
  fused.sort((a, b) => b.score - a.score || b.similarity - a.similarity || compare(a.id, b.id));
  return [...fused.map((f) => f.id), ...bm25.filter((s) => !similarities.has(s.id)).map((s) => s.id)];
}

/**
 * Whether embeddings alone make a candidate worth showing whole (BM25 found none of the task's words in
 * it): its similarity is above the candidates' mean, so a repository of unrelated files is not packed in.
 */
export function closeInMeaning(similarities: Similarities): (id: string) => boolean {
  const values = [...similarities.values()];
  const mean = values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  return (id) => (similarities.get(id) ?? -Infinity) > mean;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return na === 0 || nb === 0 ? 0 : dot / Math.sqrt(na * nb);
}
