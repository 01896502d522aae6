import type Database from 'better-sqlite3';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

/**
 * Takes SQLite's WAL checkpoints off the webhook path. By default the connection that commits checkpoints
 * the WAL every ~1,000 pages, fsync included (~10 ms on our disks), inside whichever commit crosses the
 * mark — in a burst, inside a webhook's answer. Here the store's connection never checkpoints
 * (`wal_autocheckpoint = 0`) and a thread with its own connection does it every `intervalMs`, so the
 * event loop never waits for the disk's fsync. Where the compiled thread script is missing (tests run the
 * TypeScript sources), SQLite's automatic checkpoints stay on.
 */
export function startWalCheckpointer(db: Database.Database, file: string, intervalMs = 1000): { stop(): void } {
  const url = new URL('./wal-checkpoint-thread.js', import.meta.url);
  if (!existsSync(fileURLToPath(url))) return { stop: () => undefined };
  const thread = new Worker(url, { workerData: { file, intervalMs } });
  db.pragma('wal_autocheckpoint = 0');
  // If the thread ever dies, the connection goes back to checkpointing by itself.
  thread.once('error', () => db.open && db.pragma('wal_autocheckpoint = 1000'));
  thread.unref();
  // Stopping lets the thread copy what is left and close its connection; the WAL is durable either way.
  return { stop: () => thread.postMessage('stop') };
}
