import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { BaselineCache } from './baseline.js';

const MAX_ENTRIES = 200;

/**
 * Baselines in a folder, one file per key, for `code4py validate --base` (the bot keeps them in its store).
 * Written whole or not at all (a temporary file renamed), and the oldest dropped beyond 200 entries.
 */
export class FolderBaselineCache implements BaselineCache {
  constructor(private readonly dir: string) {}

  async get(key: string): Promise<string | null> {
    return readFile(this.path(key), 'utf8').catch(() => null);
  }

  async set(key: string, value: string): Promise<void> {
    await mkdir(this.dir, { recursive: true });
    const temporary = `${this.path(key)}.${process.pid}.tmp`;
    await writeFile(temporary, value, { mode: 0o600 });
    await rename(temporary, this.path(key));
    await this.prune();
  }

  private path(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`not a baseline key: ${key}`);
    return join(this.dir, `${key}.json`);
  }

  private async prune(): Promise<void> {
    const names = (await readdir(this.dir).catch(() => [])).filter((n) => n.endsWith('.json'));
    if (names.length <= MAX_ENTRIES) return;
    const aged = await Promise.all(names.map(async (name) => ({ name, time: (await stat(join(this.dir, name)).catch(() => null))?.mtimeMs ?? 0 })));
    aged.sort((a, b) => a.time - b.time);
    await Promise.all(aged.slice(0, names.length - MAX_ENTRIES).map((a) => rm(join(this.dir, a.name), { force: true })));
  }
}
