import type { Analysis, TaskText, TokenLedger } from '../../llm/index.js';
import type { Sandbox } from '../../sandbox/types.js';
import { decodeText, type InputFile } from '../../validate/workspace.js';
import { rank, words, type Scored } from './bm25.js';
import { conventionFiles, isTestPath } from './conventions.js';
import { closeInMeaning, EMBEDDING_CANDIDATES, embedCandidates, fuseRankings, type Embedder, type Similarities } from './embeddings.js';
import { packContext, type RepoContext as PackedContext } from './pack.js';
import { definedNames, readRepoMap, renderModule, type RepoMap } from './repo-map.js';

export { MAP_PATH } from './pack.js';

/** How the modules were ranked, for the pull request body and the logs. */
export interface ContextRanking {
  readonly method: 'bm25' | 'bm25+embeddings';
  /** The embeddings model, when it was used. */
  readonly embeddingsModel?: string;
  /** Set when embeddings were configured but not used: why, and that BM25 alone ranked the files. */
  readonly note?: string;
}

export interface RepoContext extends PackedContext {
  readonly ranking: ContextRanking;
}

/** The default of `context.max_tokens`. */
export const DEFAULT_CONTEXT_TOKENS = 12_000;

/** Ranking reads a module's opening only: past it, a large module repeats its words and costs time. */
const RANKED_CHARS = 32_000;

export interface ContextRequest {
  /** The repository at the commit the work builds on. */
  readonly files: readonly InputFile[];
  readonly task: TaskText;
  readonly analysis: Analysis;
  /** Tokens the context may cost in the prompt (`context.max_tokens`). */
  readonly maxTokens?: number;
  /** `context.embeddings_model`: when set, embeddings rerank BM25's best candidates (with `embedder` and `usage`). */
  readonly embeddingsModel?: string | undefined;
  /** The model client, which makes the embeddings. */
  readonly embedder?: Embedder;
  /** The task's token account, which the embeddings requests spend from. */
  readonly usage?: TokenLedger;
}

/**
 * The repository context for the solution prompt: a map of the Python code built with Python's parser in
 * the sandbox, the conventions, and the files most relevant to the task, within the token budget.
 */
export async function buildContext(request: ContextRequest, sandbox: Sandbox, signal?: AbortSignal): Promise<RepoContext> {
  const map = await readRepoMap(sandbox, request.files, signal);
  return rankContext(request, map, signal);
}

/**
 * Ranking and packing, given the map: BM25, then — when `embeddingsModel` is set — BM25's best candidates
 * reranked with embeddings of the task and of their map entries. An embeddings failure never fails the
 * task: the context is BM25's, and its `ranking.note` says why.
 */
export async function rankContext(request: ContextRequest, map: RepoMap, signal?: AbortSignal): Promise<RepoContext> {
  const model = request.embeddingsModel?.trim();
  if (!model) return chooseContext(request, map);
  if (!request.embedder || !request.usage) return chooseContext(request, map, { problem: 'no model client was given to make them' }, model);
  const texts = textsOf(request.files);
  const scores = scoreModules(request, map, texts);
  const byPath = new Map(map.modules.map((m) => [m.path, m]));
  const candidates = scores.slice(0, EMBEDDING_CANDIDATES).map((s) => ({ id: s.id, summary: renderModule(byPath.get(s.id)!) }));
  const embedded = await embedCandidates(taskQuery(request.task, request.analysis), candidates, { model, embedder: request.embedder, usage: request.usage }, signal);
  return assemble(request, map, texts, scores, embedded.ok ? { similarities: embedded.similarities } : { problem: embedded.problem }, model);
}

/**
 * The pure part: ranking and packing, given the map and, optionally, the embeddings' similarities of BM25's
 * best candidates (or why there are none). The same input gives the same context.
 */
export function chooseContext(request: ContextRequest, map: RepoMap, embeddings?: EmbeddingsOutcome, embeddingsModel?: string): RepoContext {
  const texts = textsOf(request.files);
  return assemble(request, map, texts, scoreModules(request, map, texts), embeddings, embeddingsModel);
}

/** What the embeddings step gave: each candidate's similarity to the task, or why there is none. */
export type EmbeddingsOutcome = { readonly similarities: Similarities } | { readonly problem: string };

function assemble(request: ContextRequest, map: RepoMap, texts: ReadonlyMap<string, string>, scores: readonly Scored[], embeddings: EmbeddingsOutcome | undefined, embeddingsModel: string | undefined): RepoContext {
  const modules = new Map(map.modules.map((m) => [m.path, m]));
  const bm25 = new Map(scores.map((s) => [s.id, s.score]));
  let order = scores.map((s) => s.id);
  let worthShowing = (id: string) => bm25.get(id)! > 0;
  let ranking: ContextRanking = { method: 'bm25' };
  if (embeddings && 'similarities' in embeddings) {
    order = fuseRankings(scores, embeddings.similarities);
    const close = closeInMeaning(embeddings.similarities);
    worthShowing = (id) => bm25.get(id)! > 0 || close(id);
    ranking = { method: 'bm25+embeddings', ...(embeddingsModel ? { embeddingsModel } : {}) };
  } else if (embeddings) {
    ranking = { method: 'bm25', note: `embeddings${embeddingsModel ? ` (${embeddingsModel})` : ''} were not used, so BM25 alone ranked the files: ${embeddings.problem}` };
  }
  const tests = order.filter((id) => isTestPath(id) && texts.has(id));
  const relevant = order.filter((id) => worthShowing(id) && texts.has(id));
  const packed = packContext({
    budget: request.maxTokens ?? DEFAULT_CONTEXT_TOKENS,
    modules: order.map((id) => modules.get(id)!),
    ...(map.problem ? { mapProblem: map.problem } : {}),
    conventions: conventionFiles(texts, tests),
    ranked: relevant.map((id) => ({ path: id, content: texts.get(id)! })),
  });
  return { ...packed, ranking };
}

function textsOf(files: readonly InputFile[]): Map<string, string> {
  const texts = new Map<string, string>();
  for (const file of files) {
    const text = decodeText(file.content);
    if (text !== null) texts.set(file.path, text);
  }
  return texts;
}

/** Each module's BM25 score for the task, best first. */
function scoreModules(request: ContextRequest, map: RepoMap, texts: ReadonlyMap<string, string>): Scored[] {
  const documents = map.modules.map((module) => {
    const path = words(module.path.replace(/\.py$/, ''));
    const names = words(definedNames(module).join(' '));
    const docs = words([module.doc, ...module.symbols.flatMap((s) => [s.doc, ...s.methods.map((m) => m.doc)])].filter(Boolean).join(' '));
    // Repeating a field weighs it: a word in the path or a defined name says more than one in the body.
    return { id: module.path, words: [...path, ...path, ...path, ...names, ...names, ...docs, ...words((texts.get(module.path) ?? '').slice(0, RANKED_CHARS))] };
  });
  return rank(documents, words(taskQuery(request.task, request.analysis)));
}

/** What the task is about, in words: the analysis (the precise part) and the issue as written. */
export function taskQuery(task: TaskText, analysis: Analysis): string {
  // The module name is the analysis' most precise word for the task: it counts twice.
  return [analysis.module, analysis.module, analysis.title, ...analysis.requirements, task.title, task.body, task.instructions ?? ''].join('\n');
}
