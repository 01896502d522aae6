// The embedded store's WAL checkpoints, in a thread of their own (see wal-checkpointer.ts).
import Database from 'better-sqlite3';
import { parentPort, workerData } from 'node:worker_threads';
import { z } from 'zod';

const { file, intervalMs } = z.object({ file: z.string(), intervalMs: z.number().positive() }).parse(workerData);
const db = new Database(file);
db.pragma('busy_timeout = 5000');
const timer = setInterval(() => {
  try {
    // PASSIVE: copies what it can without waiting for (or blocking) the writer; the writer starts the WAL
    // over once all of it has been copied.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Busy or locked for a moment: the next round copies it.
  }
}, intervalMs);
parentPort?.once('message', () => {
  clearInterval(timer);
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } finally {
    db.close();
    parentPort?.close();
  }
});
