import { Queue, Worker as BullWorker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import type { BaselineCache } from '../validate/change/baseline.js';
import { randomUUID } from 'node:crypto';
import type { AcceptResult, Intake } from '../app.js';
import { UsageError } from '../errors.js';
import { TaskRequestSchema, type TaskRequest } from '../webhooks/requests.js';
import type { Checkpoints, WorkQueue } from '../worker/worker.js';
import { isControl, issueKeyOf, LABEL_DEDUPE_MS, NOT_QUEUED } from './issue-keys.js';
import { utcDay, type TokenBudgetStore } from './token-budget.js';

const DAY_MS = 24 * 3600_000;
const DELIVERY_TTL_MS = 7 * DAY_MS;
const CHECKPOINT_TTL_MS = 30 * DAY_MS;
/** A task that stalled (its worker died) more often than this is failed instead of retried again. */
const MAX_STALLS = 2;
const LIVE_STATES = new Set(['waiting', 'active', 'delayed', 'prioritized', 'waiting-children']);

const BASELINE_TTL_MS = 14 * DAY_MS;

export interface RedisQueueOptions {
  /** `redis://host:port/db` (REDIS_URL). */
  readonly url: string;
  /** Key prefix, so several bots (or tests) can share one Redis. */
  readonly prefix?: string;
  /** At most this many tasks of one installation run at once across every process. */
  readonly installationConcurrency?: number;
  /** How long a worker's claim lasts without a heartbeat before another process may take the task over. */
  readonly lockMs?: number;
  /** How often each process looks for tasks whose worker died. */
  readonly stalledCheckMs?: number;
  /** How long a task held back by its installation's limit waits before it is looked at again. */
  readonly fairnessDelayMs?: number;
}

export interface RedisQueue extends Intake, WorkQueue, TokenBudgetStore {
  /** The base commits' validation results, shared by every process (kept 14 days after their last use). */
  readonly baselines: BaselineCache;
  accept(request: TaskRequest): Promise<AcceptResult>;
  /** Counts by state across every process, for metrics and tests. */
  counts(): Promise<Record<string, number>>;
  /** Answers once Redis does (readiness). */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

interface Claimed {
  readonly job: Job<TaskRequest>;
  readonly token: string;
  readonly control: boolean;
}

/**
 * Redis mode (REDIS_URL): the task queue is BullMQ, and the rest of the shared state is plain Redis keys,
 * so any number of bot processes on any number of machines share the work.
 *
 * - Two BullMQ queues: `tasks` and `control` (cancel, help: they act beside a running task, never behind it).
 *   Workers take jobs by hand (`getNextJob`), hold them with a lock they extend on every heartbeat, and
 *   BullMQ's stalled-job check gives a job whose worker died (lock expired) to another process.
 * - `delivery:<id>`: delivery dedupe (SET NX with a week's expiry). `active:<issue>`: the id of the
 *   issue's one queued or running task. `waiting:<issue>`: a question waits for its answer.
 *   `cancel:<task>`, `ckpt:<task>` (a hash of checkpoints), `label:<issue>` (opened+labeled coalescing).
 * - Fairness: `inst:<id>:running` is a sorted set of the installation's running task ids scored by lease
 *   expiry; a task whose installation is at its limit goes back to the delayed set for a moment.
 * - `tokens:<installation>:<day>`: the model tokens of the day, for the daily budget.
 */
export async function openRedisQueue(options: RedisQueueOptions): Promise<RedisQueue> {
  const prefix = options.prefix ?? 'code4py';
  const lockMs = options.lockMs ?? 60_000;
  const limit = options.installationConcurrency ?? Number.MAX_SAFE_INTEGER;
  const fairnessDelayMs = options.fairnessDelayMs ?? 2000;
  const key = (...parts: Array<string | number>) => `${prefix}:${parts.join(':')}`;

  const redis = new Redis(options.url, { maxRetriesPerRequest: null, lazyConnect: true });
  // ioredis reconnects by itself once it was connected; calls made meanwhile wait.
  redis.on('error', () => undefined);
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new UsageError(`cannot reach Redis at ${redactUrl(options.url)} (${(error as Error).message}). Check REDIS_URL (redis://host:port), or unset it to use the embedded store.`);
  }

  const bull = { connection: redis, prefix: `${prefix}:bull` };
  const queues = { tasks: new Queue<TaskRequest>('tasks', bull), control: new Queue<TaskRequest>('control', bull) };
  // Workers without a processor: jobs are taken by hand, so the bot's own worker loop drives both modes.
  // Made on the first claim, so an intake-only process runs no stalled-job checker (every checker in the
  // cluster shares one rate limit, and the slowest one's interval would set the pace for all).
  const workerOptions = { ...bull, autorun: false, lockDuration: lockMs, stalledInterval: options.stalledCheckMs ?? Math.max(1000, lockMs / 2), maxStalledCount: MAX_STALLS };
  let bullWorkers: { tasks: BullWorker<TaskRequest>; control: BullWorker<TaskRequest> } | undefined;
  const workers = () => {
    if (!bullWorkers) {
      bullWorkers = { tasks: new BullWorker<TaskRequest>('tasks', null, workerOptions), control: new BullWorker<TaskRequest>('control', null, workerOptions) };
      for (const worker of Object.values(bullWorkers)) {
        worker.on('error', () => undefined);
        void worker.startStalledCheckTimer();
      }
    }
    return bullWorkers;
  };
  const claimed = new Map<string, Claimed>();

  // Compare-and-delete: the issue's lock goes only if it still names this task.
  redis.defineCommand('code4pyReleaseIf', { numberOfKeys: 1, lua: "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0" });
  // Takes a slot of the installation's running set when fewer than the limit hold a live lease.
  redis.defineCommand('code4pyTakeSlot', {
    numberOfKeys: 1,
    lua: `redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZSCORE', KEYS[1], ARGV[3]) or redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[4], ARGV[3]) redis.call('PEXPIRE', KEYS[1], ARGV[5]) return 1 end
return 0`,
  });
  const commands = redis as Redis & {
    code4pyReleaseIf(key: string, value: string): Promise<number>;
    code4pyTakeSlot(key: string, now: number, limit: number, member: string, expiry: number, ttl: number): Promise<number>;
  };

  const slotKey = (request: TaskRequest) => key('inst', request.installationId, 'running');
  const takeSlot = async (job: Job<TaskRequest>) => {
    const now = Date.now();
    return (await commands.code4pyTakeSlot(slotKey(job.data), now, limit, job.id!, now + lockMs, lockMs * 2)) === 1;
  };

  /** Ends a claimed task's hold on the queue's shared state: its installation slot, and (when over) its issue lock. */
  const letGo = async (taskId: string, over: boolean): Promise<Claimed | undefined> => {
    const held = claimed.get(taskId);
    if (!held) return undefined;
    claimed.delete(taskId);
    if (!held.control) {
      await redis.zrem(slotKey(held.job.data), taskId);
      if (over) await commands.code4pyReleaseIf(key('active', issueKeyOf(held.job.data)), taskId);
    }
    return held;
  };

  const liveJob = async (id: string | null): Promise<Job<TaskRequest> | undefined> => {
    if (!id) return undefined;
    const job = await queues.tasks.getJob(id);
    return job && LIVE_STATES.has(await job.getState()) ? job : undefined;
  };

  return {
    async accept(raw) {
      const request = TaskRequestSchema.parse(raw);
      const issueKey = issueKeyOf(request);
      // Plain comments are answers only while the issue waits for one; others are not even recorded.
      if (request.trigger.kind === 'answer' && !(await redis.exists(key('waiting', issueKey)))) {
        return NOT_QUEUED.notWaiting;
      }
      if ((await redis.set(key('delivery', request.deliveryId), '1', 'PX', DELIVERY_TTL_MS, 'NX')) === null) return NOT_QUEUED.seen;
      if (request.trigger.kind === 'label' && (await redis.set(key('label', issueKey), '1', 'PX', LABEL_DEDUPE_MS, 'NX')) === null) {
        return NOT_QUEUED.coalesced;
      }
      const id = randomUUID();
      if (isControl(request)) {
        await queues.control.add('control', request, { jobId: id, removeOnComplete: { age: DAY_MS / 1000 }, removeOnFail: { age: DAY_MS / 1000 } });
        return { queued: true };
      }
      const lock = key('active', issueKey);
      for (let tries = 0; ; tries++) {
        if ((await redis.set(lock, id, 'NX')) === 'OK') break;
        const holder = await redis.get(lock);
        if (tries > 2 || (await liveJob(holder))) return NOT_QUEUED.busy;
        // The holder ended without letting go (its last worker died past MAX_STALLS): the lock is stale.
        if (holder) await commands.code4pyReleaseIf(lock, holder);
      }
      await queues.tasks.add('task', request, { jobId: id, removeOnComplete: { age: 7 * DAY_MS / 1000 }, removeOnFail: { age: 30 * DAY_MS / 1000 } });
      await redis.del(key('waiting', issueKey));
      return { queued: true };
    },

    async claim(workerId, claimOptions) {
      const token = `${workerId}:${randomUUID()}`;
      const control = await workers().control.getNextJob(token, { block: false });
      if (control) {
        claimed.set(control.id!, { job: control, token, control: true });
        return { id: control.id!, request: TaskRequestSchema.parse(control.data) };
      }
      if (claimOptions?.onlyControl) return null;
      // A few tries: tasks of an installation at its limit step aside for a moment, and the next is looked at.
      for (let tries = 0; tries < 5; tries++) {
        const job = await workers().tasks.getNextJob(token, { block: false });
        if (!job) return null;
        if (await takeSlot(job)) {
          claimed.set(job.id!, { job, token, control: false });
          return { id: job.id!, request: TaskRequestSchema.parse(job.data) };
        }
        await job.moveToDelayed(Date.now() + fairnessDelayMs, token);
      }
      return null;
    },

    async cancelIssue(request) {
      const issueKey = issueKeyOf(request);
      await redis.del(key('waiting', issueKey));
      const lock = key('active', issueKey);
      const holder = await redis.get(lock);
      const job = await liveJob(holder);
      if (!job || !holder) return { dropped: 0, stopping: 0 };
      if ((await job.getState()) === 'active') {
        await redis.set(key('cancel', holder), '1', 'PX', DAY_MS);
        return { dropped: 0, stopping: 1 };
      }
      try {
        await job.remove();
      } catch {
        // Taken by a worker in the meantime: ask it to stop instead.
        await redis.set(key('cancel', holder), '1', 'PX', DAY_MS);
        return { dropped: 0, stopping: 1 };
      }
      await commands.code4pyReleaseIf(lock, holder);
      return { dropped: 1, stopping: 0 };
    },

    isCancelRequested: async (taskId) => (await redis.exists(key('cancel', taskId))) === 1,

    async heartbeat(taskId) {
      const held = claimed.get(taskId);
      if (!held) return;
      await held.job.extendLock(held.token, lockMs);
      if (!held.control) await redis.zadd(slotKey(held.job.data), Date.now() + lockMs, taskId);
    },

    async complete(taskId, _workerId, outcome) {
      const held = await letGo(taskId, true);
      await held?.job.moveToCompleted(outcome, held.token, false);
    },

    async fail(taskId, _workerId, reason) {
      const held = await letGo(taskId, true);
      await held?.job.moveToFailed(new Error(reason), held.token, false);
    },

    async release(taskId) {
      const held = await letGo(taskId, false);
      // Back to the waiting list with its checkpoints: another process (or this one, later) goes on with it.
      await held?.job.moveToWait(held.token);
    },

    awaitAnswer: async (request) => void (await redis.set(key('waiting', issueKeyOf(request)), '1', 'PX', CHECKPOINT_TTL_MS)),

    async checkpoints(taskId) {
      const hash = key('ckpt', taskId);
      const stored = await redis.hgetall(hash);
      const values: Record<string, unknown> = Object.fromEntries(Object.entries(stored).map(([k, v]) => [k, JSON.parse(v) as unknown]));
      // Writes go out in order on the one connection; `flush` waits for them before the task ends, and
      // reports the first that failed (kept here, so a failed write is never an unhandled rejection).
      let writes: Promise<void> = Promise.resolve();
      let failed: unknown;
      const store: Checkpoints = {
        get: () => ({ ...values }),
        set(name, value) {
          values[name] = value;
          const write = redis
            .multi()
            .hset(hash, name, JSON.stringify(value))
            .pexpire(hash, CHECKPOINT_TTL_MS)
            .exec()
            .then(
              () => undefined,
              (error: unknown) => void (failed ??= error),
            );
          writes = Promise.all([writes, write]).then(() => undefined);
        },
        async flush() {
          await writes;
          if (failed) throw failed;
        },
      };
      return store;
    },

    baselines: {
      async get(name) {
        const value = await redis.get(key('baseline', name));
        if (value !== null) await redis.pexpire(key('baseline', name), BASELINE_TTL_MS);
        return value;
      },
      set: async (name, value) => void (await redis.set(key('baseline', name), value, 'PX', BASELINE_TTL_MS)),
    },
    tokensSpentToday: async (installationId) => Number((await redis.get(key('tokens', installationId, utcDay(Date.now())))) ?? 0),
    async addTokens(installationId, tokens) {
      const day = key('tokens', installationId, utcDay(Date.now()));
      await redis.multi().incrby(day, tokens).pexpire(day, 2 * DAY_MS).exec();
    },

    async counts() {
      const [tasks, control] = await Promise.all([queues.tasks.getJobCounts(), queues.control.getJobCounts()]);
      const out: Record<string, number> = {};
      for (const counts of [tasks, control]) for (const [state, n] of Object.entries(counts)) if (n > 0) out[state] = (out[state] ?? 0) + n;
      return out;
    },

    ping: async () => (await redis.ping().catch(() => '')) === 'PONG',

    async close() {
      if (bullWorkers) await Promise.allSettled([bullWorkers.tasks.close(true), bullWorkers.control.close(true)]);
      await Promise.allSettled([queues.tasks.close(), queues.control.close()]);
      redis.disconnect();
    },
  };
}

/** A Redis URL without its password, for messages. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(an unparsable URL)';
  }
}
