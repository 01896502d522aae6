import { createHash } from 'node:crypto';
import { z } from 'zod';
import { stableStringify } from '../../json.js';
import { packageInfo } from '../../version.js';
import { pythonScript } from '../python-scripts.js';
import type { Finding, StageName, StageResult } from '../report.js';
import type { InputFile } from '../workspace.js';
import { countKeys, MATCHED_STAGES, type LineIndex, type MatchedStage } from './fingerprint.js';

/**
 * What the change is judged against: the base's findings (as fingerprint counts) and every test's
 * outcome there. Computed once per base commit, settings and environment, and kept in the store.
 */
export const BaselineSchema = z.object({
  version: z.literal(1),
  /** Fingerprint key → how many findings have it (src/validate/change/fingerprint.ts). */
  findings: z.record(z.string(), z.number().int().positive()),
  /** pytest node id → outcome at the base. */
  tests: z.record(z.string(), z.enum(['passed', 'failed', 'error', 'skipped'])),
  /** How the base's test run ended; when it did not complete, its outcomes are partial. */
  ended: z.enum(['completed', 'timed-out', 'out-of-memory', 'killed', 'crashed', 'cancelled']),
  /** The base's tests stage summary, for the report. */
  testsSummary: z.string(),
  durationMs: z.number().nonnegative(),
});
export type Baseline = z.infer<typeof BaselineSchema>;

/** Where baselines are kept: the embedded store's table, Redis, or a folder (the CLI). */
export interface BaselineCache {
  get(key: string): Promise<string | null>;
  set(key: string, value: string): Promise<void>;
}

/** A cache for one process (tests, and when no store is given). */
export class MemoryBaselineCache implements BaselineCache {
  private readonly entries = new Map<string, string>();
  async get(key: string): Promise<string | null> {
    return this.entries.get(key) ?? null;
  }
  async set(key: string, value: string): Promise<void> {
    this.entries.set(key, value);
  }
  get size(): number {
    return this.entries.size;
  }
}

/** The base: a commit (its sha), or a tree without one (identified by its contents). */
export interface BaseTree {
  readonly sha: string | null;
  readonly files: readonly InputFile[];
}

/** Identifies a base tree: its commit, or a hash of its paths and contents. */
export function baseId(base: BaseTree): string {
  if (base.sha) return base.sha;
  const hash = createHash('sha256');
  for (const file of [...base.files].sort((a, b) => (a.path < b.path ? -1 : 1))) hash.update(file.path).update('\0').update(createHash('sha256').update(file.content).digest()).update('\0');
  return `tree:${hash.digest('hex')}`;
}

/**
 * The cache key: the base, every setting that changes its results (the repository's settings and the
 * operator's maxima they are held to), the runtime (the sandbox's backend and Python, the environment
 * stage's identity) and this validator's own version (its driver script included), so an upgrade never
 * reads an old baseline.
 */
export function baselineKey(base: BaseTree, settings: unknown, runtime: unknown): string {
  const validator = `${packageInfo().version}:${createHash('sha256').update(pythonScript('validate')).digest('hex').slice(0, 16)}`;
  return createHash('sha256').update(stableStringify({ v: 2, base: baseId(base), settings, runtime, validator })).digest('hex');
}

/** The baseline of a base tree's checks: fingerprint counts of its findings and its tests' outcomes. */
export function baselineOf(results: ReadonlyMap<StageName, StageResult>, tests: Baseline['tests'], ended: Baseline['ended'], lines: LineIndex, durationMs: number): Baseline {
  const findings: Array<{ stage: MatchedStage; finding: Finding }> = [];
  for (const name of MATCHED_STAGES) for (const finding of results.get(name)?.findings ?? []) findings.push({ stage: name, finding });
  return { version: 1, findings: countKeys(findings, lines), tests, ended, testsSummary: results.get('tests')?.summary ?? '', durationMs };
}

/** Reads a cached baseline; anything unreadable counts as absent (it is then computed again). */
export function parseBaseline(text: string | null): Baseline | null {
  if (text === null) return null;
  try {
    const parsed = BaselineSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
