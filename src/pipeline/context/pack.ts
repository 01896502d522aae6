import type { RepoFile } from '../../llm/index.js';
import { compare, renderModule } from './repo-map.js';
import type { MapModule } from './schema.js';
import { countTokens, entryTokens, entryTokensWithin, FENCE_TOKENS, SECTION_TOKENS } from './tokens.js';

/** The map's entry among the context files; parentheses keep it from being mistaken for a repository path. */
export const MAP_PATH = '(repository map)';

/** The map's part of the budget at most, so that conventions and whole files keep room in a large repository. */
export const MAP_SHARE = 0.4;

/** Whole files looked at past the last one that fitted: a bound on tokenizer work in a large repository. */
const MAX_MISSES = 100;

export interface PackInput {
  readonly budget: number;
  /** Modules of the map, most relevant first. */
  readonly modules: readonly MapModule[];
  /** Why the map has no symbols, when the parser could not run. */
  readonly mapProblem?: string;
  /** The project's conventions, in the order they are offered. */
  readonly conventions: readonly RepoFile[];
  /** Whole-file candidates, most relevant first. */
  readonly ranked: readonly RepoFile[];
  readonly mapShare?: number;
}

export interface RepoContext {
  /** What the model is given: the map first (path MAP_PATH), then conventions, then files by relevance. */
  readonly files: readonly RepoFile[];
  /** The repository paths given whole or in part (not the map), for the pull request body. */
  readonly paths: readonly string[];
  /** Tokens the files cost in the prompt, fences and section heading included; never more than `budget`. */
  readonly tokens: number;
  readonly budget: number;
  /** How many modules the map shows, of how many there are. */
  readonly map: { readonly shown: number; readonly total: number };
}

/**
 * Packs the context into the token budget, in order: the map (up to its share), the conventions, then
 * whole files by relevance. A file that does not fit whole is skipped, not cut: half a module would show
 * the model code that is not there, and the map already lists what the file defines. Every entry is
 * counted as the prompt renders it, so the sum never passes the budget.
 */
export function packContext(input: PackInput): RepoContext {
  const { budget } = input;
  const files: RepoFile[] = [];
  // The section's heading is paid once, by the first entry.
  let used = SECTION_TOKENS;
  const map = packMap(input.modules, Math.min(budget, Math.floor(budget * (input.mapShare ?? MAP_SHARE))) - used, input.mapProblem);
  if (map) {
    files.push({ path: MAP_PATH, content: map.text });
    used += map.tokens;
  }
  const given = new Set<string>();
  const offer = (file: RepoFile): boolean => {
    if (given.has(file.path)) return false;
    const cost = entryTokensWithin(file.path, file.content, budget - used);
    if (cost === null) return false;
    files.push(file);
    given.add(file.path);
    used += cost;
    return true;
  };
  for (const file of input.conventions) offer(file);
  let misses = 0;
  for (const file of input.ranked) {
    if (budget - used <= FENCE_TOKENS || misses >= MAX_MISSES) break;
    misses = offer(file) ? 0 : misses + 1;
  }
  return {
    files,
    paths: files.filter((f) => f.path !== MAP_PATH).map((f) => f.path),
    tokens: files.length > 0 ? used : 0,
    budget,
    map: { shown: map?.shown ?? 0, total: input.modules.length },
  };
}

/** The map text within `cap` tokens: the most relevant modules, printed in path order so packages read together. */
function packMap(modules: readonly MapModule[], cap: number, problem: string | undefined): { text: string; tokens: number; shown: number } | null {
  if (modules.length === 0) return null;
  const render = (chosen: readonly MapModule[]): string => {
    const sorted = [...chosen].sort((a, b) => compare(a.path, b.path));
    return [mapHeader(chosen.length, modules.length, problem), ...sorted.map(renderModule)].join('\n');
  };
  // Blocks are counted one by one to choose, then the whole text is counted exactly and trimmed if need be.
  let estimate = entryTokens(MAP_PATH, mapHeader(modules.length, modules.length, problem));
  const chosen: MapModule[] = [];
  let misses = 0;
  for (const module of modules) {
    if (misses >= MAX_MISSES) break;
    const cost = countTokens(`\n${renderModule(module)}`);
    if (estimate + cost > cap) {
      misses++;
      continue;
    }
    chosen.push(module);
    estimate += cost;
    misses = 0;
  }
  while (chosen.length > 0) {
    const text = render(chosen);
    const tokens = entryTokens(MAP_PATH, text);
    if (tokens <= cap) return { text, tokens, shown: chosen.length };
    chosen.pop();
  }
  return null;
}

function mapHeader(shown: number, total: number, problem: string | undefined): string {
  const which = shown === total ? `all ${total} Python modules` : `${shown} of ${total} Python modules, those most relevant to the task`;
  const note = problem ? ` Symbols are missing: ${problem}.` : '';
  return `Map of the repository: ${which}, with their top-level functions and classes (methods indented) and each docstring's first line.${note}`;
}
