import { mkdtemp, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { EnvironmentCache } from '../../../src/validate/environment/cache.js';

const Data = z.object({ label: z.string() });
let root: string;
beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'code4py-cache-test-'));
});
afterEach(() => rm(root, { recursive: true, force: true }));

/** A build that writes `bytes` bytes and counts how often it ran. */
function counted(bytes = 10, delayMs = 50) {
  let runs = 0;
  return {
    runs: () => runs,
    build: async (content: string) => {
      runs++;
      await new Promise((r) => setTimeout(r, delayMs));
      await writeFile(join(content, 'payload'), 'x'.repeat(bytes));
      return { ok: true as const, data: { label: `built ${runs}` } };
    },
  };
}

describe('environment cache', () => {
  it('builds a key once for callers in this process and in another (two caches on one folder)', async () => {
    const [a, b] = [new EnvironmentCache({ root, maxBytes: 1e9 }), new EnvironmentCache({ root, maxBytes: 1e9 })];
    const builder = counted(10, 300);
    const results = await Promise.all([a.obtain('envs', 'k1', Data, builder.build), a.obtain('envs', 'k1', Data, builder.build), b.obtain('envs', 'k1', Data, builder.build)]);
    expect(builder.runs()).toBe(1);
    expect(new Set(results.map((r) => r.entry?.content)).size).toBe(1);
    expect(await readFile(join(results[0].entry!.content, 'payload'), 'utf8')).toBe('x'.repeat(10));
    expect(results.filter((r) => r.entry && r.built)).toHaveLength(1);
  });

  it("builds again for a live caller when the build it waited for was cut short by another caller's cancel", async () => {
    const cache = new EnvironmentCache({ root, maxBytes: 1e9 });
    const first = new AbortController();
    let runs = 0;
    // The build honours the signal of the caller that started it, as pip's run does.
    const build = (signal: AbortSignal | undefined) => async (content: string) => {
      runs++;
      await new Promise((r) => setTimeout(r, 200));
      if (signal?.aborted) return { ok: false as const, failure: 'cancelled' };
      await writeFile(join(content, 'payload'), 'x');
      return { ok: true as const, data: { label: `built ${runs}` } };
    };
    const cancelled = cache.obtain('envs', 'k', Data, build(first.signal), first.signal);
    await new Promise((r) => setTimeout(r, 20));
    const live = new AbortController();
    const waiting = cache.obtain('envs', 'k', Data, build(live.signal), live.signal);
    first.abort();
    expect(await cancelled).toEqual({ entry: null, failure: 'cancelled' });
    const result = await waiting;
    expect(result.entry?.data).toEqual({ label: 'built 2' });
    expect(result).toMatchObject({ built: true });
    expect(runs).toBe(2);
    expect(await readFile(join(result.entry!.content, 'payload'), 'utf8')).toBe('x');
  });

  it('publishes whole or not at all: a failed build leaves no entry and no staging folder', async () => {
    const cache = new EnvironmentCache({ root, maxBytes: 1e9 });
    const result = await cache.obtain('envs', 'bad', Data, async (content) => {
      await writeFile(join(content, 'half'), 'x');
      return { ok: false as const, failure: 'pip said no' };
    });
    expect(result).toEqual({ entry: null, failure: 'pip said no' });
    expect(await cache.lookup('envs', 'bad', Data)).toBeNull();
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
    await expect(cache.obtain('envs', 'bad', Data, () => Promise.reject(new Error('crash')))).rejects.toThrow('crash');
    expect(await readdir(join(root, 'tmp'))).toEqual([]);
  });

  it('evicts the least recently used entries beyond its size, sparing those in use', async () => {
    const cache = new EnvironmentCache({ root, maxBytes: 2500, evictionGraceMs: 0 });
    for (const key of ['old', 'mid', 'new']) await cache.obtain('envs', key, Data, counted(1000, 0).build);
    const past = (seconds: number) => new Date(Date.now() - seconds * 1000);
    await utimes(join(root, 'envs', 'old', 'manifest.json'), past(300), past(300));
    await utimes(join(root, 'envs', 'mid', 'manifest.json'), past(200), past(200));
    const release = cache.lease('envs', 'old');
    expect(await cache.evict()).toEqual(['envs/mid']);
    release();
    expect(await cache.evict()).toEqual([]);
    // A lookup marks an entry as used: `old` is now the newest.
    await cache.lookup('envs', 'old', Data);
    await cache.obtain('envs', 'more', Data, counted(1000, 0).build);
    expect(await cache.evict()).toEqual(['envs/new']);
    expect((await readdir(join(root, 'envs'))).sort()).toEqual(['more', 'old']);
  });

  it('never evicts an entry used within the grace period (another process may have it mounted)', async () => {
    const cache = new EnvironmentCache({ root, maxBytes: 1, evictionGraceMs: 60_000 });
    await cache.obtain('envs', 'busy', Data, counted(1000, 0).build);
    expect(await cache.evict()).toEqual([]);
  });
});
