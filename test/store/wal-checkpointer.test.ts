import { statSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TaskRequest } from '../../src/webhooks/requests.js';

/**
 * The WAL checkpoints run in a thread of their own, never inside a commit on the webhook path. The thread
 * script exists only compiled, so this uses the build (`npm test` builds first), and judges by the files.
 */

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-wal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const request = (n: number): TaskRequest => ({ deliveryId: `d${n}`, installationId: 1, owner: 'octo', repo: 'calc', issueNumber: n, sender: 'alice', trigger: { kind: 'label', labels: ['code4py'] } });

describe('the WAL checkpointer', () => {
  it('leaves commits alone (the WAL grows past the automatic checkpoint mark) and copies the WAL into the database in the background', async () => {
    const compiled: string = '../../dist/src/store/embedded-queue.js';
    const { openQueue } = (await import(compiled)) as typeof import('../../src/store/embedded-queue.js');
    const file = join(dir, 'code4py.db');
    const queue = openQueue(file);
    try {
      for (let n = 1; n <= 400; n++) queue.accept(request(n));
      // SQLite's own checkpoint would have run at 1,000 pages (~4 MiB) and kept the database file growing.
      const before = statSync(file).size;
      expect(statSync(`${file}-wal`).size).toBeGreaterThan(4_200_000);
      await new Promise((r) => setTimeout(r, 1600));
      // Nothing was copied yet; a second later the thread has copied the 400 tasks' pages in.
      expect(before).toBeLessThan(50_000);
      expect(statSync(file).size).toBeGreaterThan(before + 100_000);
      expect(queue.counts()).toEqual({ queued: 400 });
    } finally {
      queue.close();
    }
  });
});
