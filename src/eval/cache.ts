import { createHash } from 'node:crypto';
import { appendFile, readFile, rename, writeFile } from 'node:fs/promises';
import { z } from 'zod';
import { parseJsonOrNull, stableStringify } from '../json.js';
import { ProblemResultSchema, type ProblemResult } from './report.js';

const CACHE_FORMAT = 'code4py-eval-cache/1';
const HeaderSchema = z.object({ cache: z.literal(CACHE_FORMAT), key: z.string() });

/** What a cached result depends on: change any of it and the problems run again. */
export interface CacheIdentity {
  readonly datasetSha256: string;
  readonly model: string;
  /** The server (its base URL), or the transcript a replay answers from (its sha256). */
  readonly endpoint: string;
  readonly attempts: number;
  readonly promptVersion: string;
  readonly testTimeoutSeconds: number;
  /** Test-strengthening rounds after a passing answer. */
  readonly strengthen: number;
}

export function cacheKey(identity: CacheIdentity): string {
  return createHash('sha256').update(stableStringify(identity)).digest('hex');
}

/**
 * Per-problem results of one eval setup, one JSON line each after a header line naming the setup, so an
 * interrupted run started again resumes where it stopped. A line cut off by a kill is ignored; a file
 * written for another setup (another model, K, data file or prompt version) is started afresh.
 */
export class ResultCache {
  private writes: Promise<void> = Promise.resolve();

  private constructor(
    readonly path: string,
    readonly results: Map<string, ProblemResult>,
    /** Why an existing file was not reused, when it was not. */
    readonly discarded: string | null,
  ) {}

  static async open(path: string, key: string): Promise<ResultCache> {
    const text = await readFile(path, 'utf8').catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
    const results = new Map<string, ProblemResult>();
    if (text !== null) {
      const [head, ...lines] = text.split('\n');
      const header = HeaderSchema.safeParse(parseJsonOrNull(head ?? ''));
      if (header.success && header.data.key === key) {
        for (const line of lines) {
          const result = ProblemResultSchema.safeParse(parseJsonOrNull(line));
          if (result.success) results.set(result.data.taskId, result.data);
        }
        return new ResultCache(path, results, null);
      }
    }
    // Written whole, then renamed: a header is never half there.
    await writeFile(`${path}.tmp`, `${JSON.stringify({ cache: CACHE_FORMAT, key })}\n`, { mode: 0o644 });
    await rename(`${path}.tmp`, path);
    return new ResultCache(path, results, text === null ? null : 'it was written for another model, data file, number of attempts or prompt version');
  }

  /** Appends one result; appends happen in turn, so lines never interleave. */
  add(result: ProblemResult): Promise<void> {
    this.results.set(result.taskId, result);
    this.writes = this.writes.then(() => appendFile(this.path, `${JSON.stringify(result)}\n`));
    return this.writes;
  }
}

