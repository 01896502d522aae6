import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import type { BaselineCache } from '../validate/change/baseline.js';
import type { Intake } from '../app.js';
import { UsageError } from '../errors.js';
import { TaskRequestSchema, type TaskRequest } from '../webhooks/requests.js';
import type { WorkQueue } from '../worker/worker.js';
import { isControl, issueKeyOf, LABEL_DEDUPE_MS, NOT_QUEUED } from './issue-keys.js';
import { utcDay, type TokenBudgetStore } from './token-budget.js';
import { startWalCheckpointer } from './wal-checkpointer.js';

/** A task that was running when its process died this many times is failed instead of retried again. */
const MAX_CRASHES = 3;
const LEASE_MS = 5 * 60_000;

const SCHEMA = `
CREATE TABLE IF NOT EXISTS deliveries (id TEXT PRIMARY KEY, received_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS tasks (
  id TEXT PRIMARY KEY,
  issue_key TEXT NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued', 'running', 'done', 'failed', 'cancelled')),
  -- Control tasks (cancel, help) act on an issue's work: they are not held back by its active task.
  control INTEGER NOT NULL DEFAULT 0,
  cancel_requested INTEGER NOT NULL DEFAULT 0,
  request TEXT NOT NULL,
  worker TEXT,
  lease_until INTEGER,
  crashes INTEGER NOT NULL DEFAULT 0,
  outcome TEXT,
  error TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
);
-- One active task per issue: a second trigger while one is queued or running makes no second task.
CREATE UNIQUE INDEX IF NOT EXISTS one_active_task_per_issue ON tasks (issue_key) WHERE state IN ('queued', 'running') AND control = 0;
CREATE INDEX IF NOT EXISTS tasks_by_state ON tasks (state, created_at);
-- Issues whose last task asked questions and waits for an answer.
CREATE TABLE IF NOT EXISTS waiting (issue_key TEXT PRIMARY KEY, since INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS checkpoints (task_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (task_id, key));
-- Model tokens spent per installation and UTC day, for the daily budget.
CREATE TABLE IF NOT EXISTS token_usage (installation INTEGER NOT NULL, day TEXT NOT NULL, tokens INTEGER NOT NULL, PRIMARY KEY (installation, day));
CREATE TABLE IF NOT EXISTS baselines (key TEXT PRIMARY KEY, value TEXT NOT NULL, used_at INTEGER NOT NULL);
`;

const TaskRow = z.object({ id: z.string(), request: z.string() });
const CheckpointRow = z.object({ key: z.string(), value: z.string() });

type Awaited_<T> = T extends Promise<infer U> ? U : T;
/** The store's calls answer synchronously: the WorkQueue and Intake methods without their promises. */
type Synchronous<T> = { [K in keyof T]: T[K] extends (...args: infer A) => infer R ? (...args: A) => Awaited_<R> : T[K] };

export interface EmbeddedQueue extends Synchronous<Intake>, Synchronous<WorkQueue>, TokenBudgetStore {
  /** The base commits' validation results (src/validate/change/baseline.ts), shared by every task of the process. */
  readonly baselines: BaselineCache;
  /** Tasks left running by a process that died go back to the queue (a poison task fails after MAX_CRASHES). */
  recoverOnStart(): { requeued: number; failed: number };
  /** The database answers (readiness). */
  healthy(): boolean;
  /** Counts by state, for tests and operators. */
  counts(): Record<string, number>;
  close(): void;
}

/**
 * The embedded, durable queue and task store: one SQLite file (WAL), no server. Every call is one short
 * synchronous transaction, so the webhook handler can use it without waiting on any I/O but the local disk.
 * WAL with `synchronous=NORMAL` keeps every committed transaction across a killed process (`kill -9`);
 * only an operating-system crash can lose the last few, which redelivery and the idempotent steps absorb.
 */
export interface EmbeddedQueueOptions {
  /** At most this many tasks of one installation run at once (fairness between installations). */
  readonly installationConcurrency?: number;
  readonly now?: () => number;
}

export function openQueue(path: string, options: EmbeddedQueueOptions | (() => number) = {}): EmbeddedQueue {
  const { now = Date.now, installationConcurrency = Number.MAX_SAFE_INTEGER } = typeof options === 'function' ? { now: options } : options;
  const file = resolve(path);
  let db: Database.Database;
  try {
    mkdirSync(dirname(file), { recursive: true });
    db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    db.exec(SCHEMA);
  } catch (error) {
    throw new UsageError(`cannot open the task store at ${file} (${(error as Error).message}). Point CODE4PY_DB_PATH at a writable file; a file that is not a Code4Py database must be moved away.`);
  }
  const checkpointer = startWalCheckpointer(db, file);

  const insertDelivery = db.prepare('INSERT OR IGNORE INTO deliveries (id, received_at) VALUES (?, ?)');
  const insertTask = db.prepare(
    "INSERT OR IGNORE INTO tasks (id, issue_key, state, control, request, created_at, updated_at) VALUES (@id, @issueKey, 'queued', @control, @request, @now, @now)",
  );
  const recentLabelTask = db.prepare(
    "SELECT 1 FROM tasks WHERE issue_key = ? AND created_at > ? AND json_extract(request, '$.trigger.kind') = 'label' LIMIT 1",
  );
  // The oldest task whose installation has fewer than the limit running (control tasks are never held back).
  const nextTask = db.prepare(`
    SELECT id, request FROM tasks AS t
    WHERE control >= @control AND (state = 'queued' OR (state = 'running' AND lease_until < @now))
      AND (control = 1 OR (
        SELECT COUNT(*) FROM tasks AS r
        WHERE r.state = 'running' AND r.control = 0 AND r.lease_until >= @now
          AND json_extract(r.request, '$.installationId') = json_extract(t.request, '$.installationId')
      ) < @limit)
    ORDER BY created_at, rowid LIMIT 1`);
  const spentToday = db.prepare('SELECT tokens FROM token_usage WHERE installation = ? AND day = ?');
  const getBaseline = db.prepare('UPDATE baselines SET used_at = ? WHERE key = ? RETURNING value');
  const putBaseline = db.prepare('INSERT INTO baselines (key, value, used_at) VALUES (?, ?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value, used_at = excluded.used_at');
  // A base's results are worth keeping while tasks build on it; the least recently used go beyond this many.
  const pruneBaselines = db.prepare('DELETE FROM baselines WHERE key NOT IN (SELECT key FROM baselines ORDER BY used_at DESC LIMIT 500)');
  const addTokens = db.prepare('INSERT INTO token_usage (installation, day, tokens) VALUES (?, ?, ?) ON CONFLICT (installation, day) DO UPDATE SET tokens = tokens + excluded.tokens');
  const takeTask = db.prepare("UPDATE tasks SET state = 'running', worker = ?, lease_until = ?, updated_at = ? WHERE id = ?");
  const finish = db.prepare('UPDATE tasks SET state = @state, outcome = @outcome, error = @error, worker = NULL, lease_until = NULL, updated_at = @now WHERE id = @id AND worker = @worker');
  const beat = db.prepare("UPDATE tasks SET lease_until = ?, updated_at = ? WHERE id = ? AND worker = ? AND state = 'running'");
  const giveBack = db.prepare("UPDATE tasks SET state = 'queued', worker = NULL, lease_until = NULL, updated_at = ? WHERE id = ? AND worker = ?");
  const getCheckpoints = db.prepare('SELECT key, value FROM checkpoints WHERE task_id = ?');
  const setCheckpoint = db.prepare('INSERT INTO checkpoints (task_id, key, value) VALUES (?, ?, ?) ON CONFLICT (task_id, key) DO UPDATE SET value = excluded.value');

  const isWaiting = db.prepare('SELECT 1 FROM waiting WHERE issue_key = ?');
  const stopWaiting = db.prepare('DELETE FROM waiting WHERE issue_key = ?');
  const startWaiting = db.prepare('INSERT OR REPLACE INTO waiting (issue_key, since) VALUES (?, ?)');

  const accept = db.transaction((request: TaskRequest): { queued: boolean; reason?: string } => {
    const issueKey = issueKeyOf(request);
    // Plain comments are answers only while the issue waits for one; others are not even recorded.
    if (request.trigger.kind === 'answer' && !isWaiting.get(issueKey)) return NOT_QUEUED.notWaiting;
    if (insertDelivery.run(request.deliveryId, now()).changes === 0) return NOT_QUEUED.seen;
    if (request.trigger.kind === 'label' && recentLabelTask.get(issueKey, now() - LABEL_DEDUPE_MS)) {
      return NOT_QUEUED.coalesced;
    }
    const control = isControl(request) ? 1 : 0;
    const inserted = insertTask.run({ id: randomUUID(), issueKey, control, request: JSON.stringify(request), now: now() });
    if (inserted.changes === 1 && !control) stopWaiting.run(issueKey);
    return inserted.changes === 1 ? { queued: true } : NOT_QUEUED.busy;
  });
  // The unique index turns a second active task into an ignored insert, not an error.
  const claim = db.transaction((workerId: string, onlyControl: boolean) => {
    const row = nextTask.get({ control: onlyControl ? 1 : 0, now: now(), limit: installationConcurrency });
    if (!row) return null;
    const task = TaskRow.parse(row);
    takeTask.run(workerId, now() + LEASE_MS, now(), task.id);
    return { id: task.id, request: TaskRequestSchema.parse(JSON.parse(task.request)) };
  });
  const cancelRequested = db.prepare('SELECT 1 FROM tasks WHERE id = ? AND cancel_requested = 1');
  const cancel = db.transaction((issueKey: string) => {
    const dropped = db.prepare("UPDATE tasks SET state = 'cancelled', updated_at = ? WHERE issue_key = ? AND control = 0 AND state = 'queued'").run(now(), issueKey).changes;
    const stopping = db.prepare("UPDATE tasks SET cancel_requested = 1, updated_at = ? WHERE issue_key = ? AND control = 0 AND state = 'running'").run(now(), issueKey).changes;
    stopWaiting.run(issueKey);
    return { dropped, stopping };
  });
  const recover = db.transaction(() => {
    const failed = db
      .prepare("UPDATE tasks SET state = 'failed', error = ?, worker = NULL, lease_until = NULL, updated_at = ? WHERE state = 'running' AND crashes + 1 >= ?")
      .run(`the bot stopped in the middle of this task ${MAX_CRASHES} times`, now(), MAX_CRASHES).changes;
    const requeued = db.prepare("UPDATE tasks SET state = 'queued', crashes = crashes + 1, worker = NULL, lease_until = NULL, updated_at = ? WHERE state = 'running'").run(now()).changes;
    return { requeued, failed };
  });

  return {
    // IMMEDIATE: take the write lock first, so two processes wait for each other (busy_timeout) instead of
    // failing at once with SQLITE_BUSY when a read would have to become a write.
    accept: (request) => accept.immediate(TaskRequestSchema.parse(request)),
    claim: (workerId, options) => claim.immediate(workerId, options?.onlyControl ?? false),
    cancelIssue: (request) => cancel.immediate(issueKeyOf(request)),
    isCancelRequested: (taskId) => Boolean(cancelRequested.get(taskId)),
    heartbeat: (taskId, workerId) => void beat.run(now() + LEASE_MS, now(), taskId, workerId),
    complete: (taskId, workerId, outcome) => void finish.run({ state: 'done', outcome, error: null, now: now(), id: taskId, worker: workerId }),
    fail: (taskId, workerId, reason) => void finish.run({ state: 'failed', outcome: null, error: reason, now: now(), id: taskId, worker: workerId }),
    release: (taskId, workerId) => void giveBack.run(now(), taskId, workerId),
    awaitAnswer: (request) => void startWaiting.run(issueKeyOf(request), now()),
    checkpoints: (taskId) => ({
      get: () => Object.fromEntries(z.array(CheckpointRow).parse(getCheckpoints.all(taskId)).map((r) => [r.key, JSON.parse(r.value) as unknown])),
      set: (key, value) => void setCheckpoint.run(taskId, key, JSON.stringify(value)),
    }),
    recoverOnStart: () => recover.immediate(),
    baselines: {
      get: async (key) => z.object({ value: z.string() }).optional().parse(getBaseline.get(now(), key))?.value ?? null,
      set: async (key, value) => {
        putBaseline.run(key, value, now());
        pruneBaselines.run();
      },
    },
    tokensSpentToday: (installationId) => z.object({ tokens: z.number() }).optional().parse(spentToday.get(installationId, utcDay(now())))?.tokens ?? 0,
    addTokens: (installationId, tokens) => void addTokens.run(installationId, utcDay(now()), tokens),
    counts: () =>
      Object.fromEntries(
        z
          .array(z.object({ state: z.string(), n: z.number() }))
          .parse(db.prepare('SELECT state, COUNT(*) AS n FROM tasks GROUP BY state').all())
          .map((r) => [r.state, r.n]),
      ),
    healthy: () => {
      try {
        return db.prepare('SELECT 1 AS ok').get() !== undefined;
      } catch {
        return false;
      }
    },
    close: () => {
      checkpointer.stop();
      db.close();
    },
  };
}
