import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseJsonOrNull } from '../../json.js';
import type { Sandbox } from '../../sandbox/types.js';
import { pythonScript } from '../../validate/python-scripts.js';
import type { InputFile } from '../../validate/workspace.js';
import { RepoMapOutputSchema, type MapModule, type MapSymbol } from './schema.js';

export interface RepoMap {
  /** Every Python file given, in path order. */
  readonly modules: readonly MapModule[];
  /** Set when the sandbox could not build the map: the modules are then listed without symbols. */
  readonly problem?: string;
}

const MAP_LIMITS = { wallTimeMs: 60_000, cpuSeconds: 60, outputBytes: 64 * 1024 * 1024 };

/**
 * The map of the repository's Python code, from Python's own parser run once in the sandbox (the code is
 * parsed, never imported). When that run fails, the map still lists every module, without symbols, so the
 * task goes on with less context rather than stopping.
 */
export async function readRepoMap(sandbox: Sandbox, files: readonly InputFile[], signal?: AbortSignal): Promise<RepoMap> {
  const python = files.filter((f) => f.path.endsWith('.py')).sort((a, b) => compare(a.path, b.path));
  if (python.length === 0) return { modules: [] };
  const pathsOnly = (problem: string): RepoMap => ({ modules: python.map((f) => ({ path: f.path, error: null, doc: null, symbols: [] })), problem });
  const work = await mkdtemp(join(tmpdir(), 'code4py-map-'));
  try {
    await writeFile(join(work, 'sources.bin'), bundle(python), { mode: 0o644 });
    const result = await sandbox.run({
      command: ['python', '-I', '-c', pythonScript('repo_map'), 'sources.bin'],
      workDir: work,
      env: { PYTHONHASHSEED: '0' },
      limits: MAP_LIMITS,
      signal,
    });
    if (result.aborted) throw signal?.reason ?? new Error('the repository map was cancelled');
    if (result.exitCode !== 0 || result.stdoutTruncated) {
      const why = result.timedOut ? 'it timed out' : result.stdoutTruncated ? 'its output was too large' : lastLine(result.stderr) || `exit ${result.exitCode ?? result.signal}`;
      return pathsOnly(`the parser's run failed (${why})`);
    }
    const parsed = RepoMapOutputSchema.safeParse(parseJsonOrNull(result.stdout));
    if (!parsed.success || parsed.data.modules.length !== python.length) return pathsOnly("the parser's output could not be read");
    return { modules: parsed.data.modules.map((module, i) => ({ ...module, path: python[i]!.path })) };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/**
 * All sources in one file, so the host writes one file instead of thousands (most of the time of a large
 * repository went into creating folders and files). Each entry: `<path bytes> <content bytes>\n`, the
 * path, the content.
 */
function bundle(files: readonly InputFile[]): Buffer {
  const parts: Buffer[] = [];
  for (const file of files) {
    const path = Buffer.from(file.path, 'utf8');
    parts.push(Buffer.from(`${path.length} ${file.content.length}\n`), path, file.content);
  }
  return Buffer.concat(parts);
}

/** One module's lines of the map: compact, Python-like, one symbol a line. */
export function renderModule(module: MapModule): string {
  if (module.error) return `${module.path}  (does not parse: ${module.error})`;
  const lines = [module.doc ? `${module.path}  # ${module.doc}` : module.path];
  for (const symbol of module.symbols) {
    lines.push(`  ${renderSymbol(symbol)}`);
    for (const method of symbol.methods) lines.push(`    ${renderSymbol(method)}`);
  }
  return lines.join('\n');
}

function renderSymbol(symbol: MapSymbol): string {
  return `${symbol.kind} ${symbol.name}${symbol.signature}${symbol.doc ? `  # ${symbol.doc}` : ''}`;
}

/** Every name a module defines, for ranking. */
export function definedNames(module: MapModule): string[] {
  return module.symbols.flatMap((s) => [s.name, ...s.methods.map((m) => m.name)]);
}

/** Code-point order, so the map reads the same whatever the host's locale. */
export function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function lastLine(text: string): string {
  return text.trim().split('\n').at(-1)?.slice(0, 200) ?? '';
}
