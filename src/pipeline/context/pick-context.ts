import type { Analysis, TaskText } from '../../llm/index.js';
import type { Sandbox } from '../../sandbox/types.js';
import { decodeText, type InputFile } from '../../validate/workspace.js';
import { rank, words } from './bm25.js';
import { conventionFiles, isTestPath } from './conventions.js';
import { packContext, type RepoContext } from './pack.js';
import { definedNames, readRepoMap, type RepoMap } from './repo-map.js';

export { MAP_PATH, type RepoContext } from './pack.js';

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
}

/**
 * The repository context for the solution prompt: a map of the Python code built with Python's parser in
 * the sandbox, the conventions, and the files most relevant to the task, within the token budget.
 */
export async function buildContext(request: ContextRequest, sandbox: Sandbox, signal?: AbortSignal): Promise<RepoContext> {
  const map = await readRepoMap(sandbox, request.files, signal);
  return chooseContext(request, map);
}

/** The pure part of buildContext: ranking and packing, given the map. The same input gives the same context. */
export function chooseContext(request: ContextRequest, map: RepoMap): RepoContext {
  const texts = new Map<string, string>();
  for (const file of request.files) {
    const text = decodeText(file.content);
    if (text !== null) texts.set(file.path, text);
  }
  const modules = new Map(map.modules.map((m) => [m.path, m]));
  const documents = map.modules.map((module) => {
    const path = words(module.path.replace(/\.py$/, ''));
    const names = words(definedNames(module).join(' '));
    const docs = words([module.doc, ...module.symbols.flatMap((s) => [s.doc, ...s.methods.map((m) => m.doc)])].filter(Boolean).join(' '));
    // Repeating a field weighs it: a word in the path or a defined name says more than one in the body.
    return { id: module.path, words: [...path, ...path, ...path, ...names, ...names, ...docs, ...words((texts.get(module.path) ?? '').slice(0, RANKED_CHARS))] };
  });
  const scores = rank(documents, words(taskQuery(request.task, request.analysis)));
  const tests = scores.filter((s) => isTestPath(s.id) && texts.has(s.id)).map((s) => s.id);
  const relevant = scores.filter((s) => s.score > 0 && texts.has(s.id));
  return packContext({
    budget: request.maxTokens ?? DEFAULT_CONTEXT_TOKENS,
    modules: scores.map((s) => modules.get(s.id)!),
    ...(map.problem ? { mapProblem: map.problem } : {}),
    conventions: conventionFiles(texts, tests),
    ranked: relevant.map((s) => ({ path: s.id, content: texts.get(s.id)! })),
  });
}

/** What the task is about, in words: the analysis (the precise part) and the issue as written. */
export function taskQuery(task: TaskText, analysis: Analysis): string {
  // The module name is the analysis' most precise word for the task: it counts twice.
  return [analysis.module, analysis.module, analysis.title, ...analysis.requirements, task.title, task.body, task.instructions ?? ''].join('\n');
}
