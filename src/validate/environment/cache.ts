import { createHash, randomUUID } from 'node:crypto';
import { lstat, mkdir, readdir, readFile, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { parseJsonOrNull } from '../../json.js';
import { SharedWork } from '../shared-work.js';

/** What the cache keeps: built environments, and the project layers (editable installs) keyed by their metadata. */
export type CacheKind = 'envs' | 'layers';

export interface CacheEntry<M> {
  readonly key: string;
  /** The folder to mount (the environment, or the layer). */
  readonly content: string;
  readonly data: M;
  readonly sizeBytes: number;
}

/** What a build hands back: the entry's data, or a failure that is not kept. */
export type BuildOutcome<M, F> = { readonly ok: true; readonly data: M } | { readonly ok: false; readonly failure: F };

export type Obtained<M, F> = { readonly entry: CacheEntry<M>; readonly built: boolean } | { readonly entry: null; readonly failure: F };

export interface CacheOptions {
  readonly root: string;
  readonly maxBytes: number;
  /**
   * An entry used this recently is never evicted, even beyond the size limit: another process may have it
   * mounted (leases are only known in this process). Longer than the longest test run.
   */
  readonly evictionGraceMs?: number;
}

const MANIFEST = 'manifest.json';
const CONTENT = 'content';
const FORMAT = 1;
const ManifestSchema = z.object({ format: z.literal(FORMAT), key: z.string(), sizeBytes: z.number().nonnegative(), data: z.unknown() });
const DEFAULT_GRACE_MS = 2 * 60 * 60 * 1000;
/** Builds left in tmp/ by a crashed process are removed once this old. */
const STALE_BUILD_MS = 24 * 60 * 60 * 1000;

/** A cache key: the hash of everything that decides what a build makes. */
export function cacheKey(parts: unknown): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 40);
}

/**
 * Environments on disk, built once per key (a lock per key, across processes), published atomically
 * (built in tmp/, renamed into place) and evicted least-recently-used beyond the size limit. A lookup
 * costs a stat and a small read: no process is started on a hit.
 */
export class EnvironmentCache {
  private readonly inflight = new SharedWork<unknown>();
  private readonly leases = new Map<string, number>();
  private readonly graceMs: number;

  constructor(private readonly options: CacheOptions) {
    this.graceMs = options.evictionGraceMs ?? DEFAULT_GRACE_MS;
  }

  get root(): string {
    return this.options.root;
  }

  /** The entry for `key`, marked as just used; null when there is none. */
  async lookup<M>(kind: CacheKind, key: string, schema: z.ZodType<M>): Promise<CacheEntry<M> | null> {
    const dir = join(this.options.root, kind, key);
    const text = await readFile(join(dir, MANIFEST), 'utf8').catch(() => null);
    if (text === null) return null;
    const manifest = ManifestSchema.safeParse(parseJsonOrNull(text));
    const data = manifest.success ? schema.safeParse(manifest.data.data) : null;
    if (!manifest.success || !data?.success || manifest.data.key !== key) return null;
    const now = new Date();
    await utimes(join(dir, MANIFEST), now, now).catch(() => undefined);
    return { key, content: join(dir, CONTENT), data: data.data, sizeBytes: manifest.data.sizeBytes };
  }

  /**
   * The entry for `key`, built by `build` into a fresh folder when there is none. Concurrent callers with
   * the same key, in this process or another, wait for one build. A failed build leaves nothing behind.
   * `signal` is the one `build` runs under: a caller whose own signal is live never takes the outcome of
   * a build that another caller's cancel cut short (it builds again).
   */
  async obtain<M, F>(
    kind: CacheKind,
    key: string,
    schema: z.ZodType<M>,
    build: (content: string) => Promise<BuildOutcome<M, F>>,
    signal?: AbortSignal,
  ): Promise<Obtained<M, F>> {
    const hit = await this.lookup(kind, key, schema);
    if (hit) return { entry: hit, built: false };
    const shared = await this.inflight.run(`${kind}/${key}`, signal, () => this.buildLocked(kind, key, schema, build));
    const result = shared.value as Obtained<M, F>;
    return shared.joined && result.entry ? { entry: result.entry, built: false } : result;
  }

  private async buildLocked<M, F>(
    kind: CacheKind,
    key: string,
    schema: z.ZodType<M>,
    build: (content: string) => Promise<BuildOutcome<M, F>>,
  ): Promise<Obtained<M, F>> {
    const locks = join(this.options.root, 'locks');
    const tmp = join(this.options.root, 'tmp');
    await Promise.all([mkdir(locks, { recursive: true }), mkdir(tmp, { recursive: true }), mkdir(join(this.options.root, kind), { recursive: true })]);
    const release = await lockfile.lock(join(locks, `${kind}-${key}`), {
      realpath: false,
      stale: 30_000,
      update: 10_000,
      // Another process is building this key: wait for it (builds take seconds to minutes).
      retries: { retries: 2000, factor: 1.2, minTimeout: 50, maxTimeout: 1000 },
      onCompromised: () => undefined,
    });
    try {
      const hit = await this.lookup(kind, key, schema);
      if (hit) return { entry: hit, built: false };
      const staging = join(tmp, `${kind}-${key}-${randomUUID()}`);
      await mkdir(join(staging, CONTENT), { recursive: true });
      try {
        const outcome = await build(join(staging, CONTENT));
        if (!outcome.ok) return { entry: null, failure: outcome.failure };
        const sizeBytes = await folderSize(staging);
        await writeFile(join(staging, MANIFEST), JSON.stringify({ format: FORMAT, key, sizeBytes, data: outcome.data }));
        await rename(staging, join(this.options.root, kind, key));
      } finally {
        await rm(staging, { recursive: true, force: true });
      }
      const entry = await this.lookup(kind, key, schema);
      if (!entry) throw new Error(`the environment cache lost ${kind}/${key} right after building it`);
      return { entry, built: true };
    } finally {
      await release().catch(() => undefined);
    }
  }

  /** Marks an entry as mounted by a run of this process: it is not evicted until the returned function is called. */
  lease(kind: CacheKind, key: string): () => void {
    const id = `${kind}/${key}`;
    this.leases.set(id, (this.leases.get(id) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.leases.get(id) ?? 1) - 1;
      if (left > 0) this.leases.set(id, left);
      else this.leases.delete(id);
    };
  }

  /** Removes the least recently used entries until the cache fits its size, sparing those in use; returns the keys removed. */
  async evict(): Promise<string[]> {
    const entries: Array<{ id: string; dir: string; size: number; used: number }> = [];
    for (const kind of ['envs', 'layers'] as const) {
      const names = await readdir(join(this.options.root, kind)).catch(() => [] as string[]);
      for (const name of names) {
        const dir = join(this.options.root, kind, name);
        const manifest = await stat(join(dir, MANIFEST)).catch(() => null);
        const parsed = manifest ? ManifestSchema.safeParse(parseJsonOrNull(await readFile(join(dir, MANIFEST), 'utf8').catch(() => ''))) : null;
        entries.push({ id: `${kind}/${name}`, dir, size: parsed?.success ? parsed.data.sizeBytes : 0, used: manifest?.mtimeMs ?? 0 });
      }
    }
    await this.removeStaleBuilds();
    let total = entries.reduce((sum, e) => sum + e.size, 0);
    const removed: string[] = [];
    const now = Date.now();
    for (const entry of entries.sort((a, b) => a.used - b.used)) {
      if (total <= this.options.maxBytes) break;
      if (this.leases.has(entry.id) || now - entry.used < this.graceMs) continue;
      // Renamed first, so no lookup ever sees half an entry.
      const trash = join(this.options.root, 'tmp', `evicted-${randomUUID()}`);
      if (await rename(entry.dir, trash).then(() => true, () => false)) {
        await rm(trash, { recursive: true, force: true });
        total -= entry.size;
        removed.push(entry.id);
      }
    }
    return removed;
  }

  private async removeStaleBuilds(): Promise<void> {
    const tmp = join(this.options.root, 'tmp');
    for (const name of await readdir(tmp).catch(() => [] as string[])) {
      const info = await lstat(join(tmp, name)).catch(() => null);
      if (info && Date.now() - info.mtimeMs > STALE_BUILD_MS) await rm(join(tmp, name), { recursive: true, force: true });
    }
  }
}

/** Bytes of the files under `dir` (links counted as themselves, never followed). */
async function folderSize(dir: string): Promise<number> {
  let total = 0;
  const visit = async (path: string): Promise<void> => {
    const entries = await readdir(path, { withFileTypes: true }).catch(() => []);
    await Promise.all(
      entries.map(async (entry) => {
        const full = join(path, entry.name);
        if (entry.isDirectory()) return visit(full);
        const info = await lstat(full).catch(() => null);
        total += info?.size ?? 0;
      }),
    );
  };
  await visit(dir);
  return total;
}
