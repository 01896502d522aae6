import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openRedisQueue, type RedisQueue } from '../../src/store/redis-queue.js';
import type { TaskRequest } from '../../src/webhooks/requests.js';
import { testApp } from '../helpers/fake-github.js';
import { postWebhook } from '../helpers/post-webhook.js';
import { freePort, RedisServer } from '../helpers/redis.js';
import { issueCommentCreatedPayload } from '../helpers/webhook-payloads.js';

/**
 * Redis mode with real processes and a real redis-server: the bot's intake (`node dist/src/main.js` with
 * CODE4PY_ROLE=intake) takes signed deliveries, worker processes running the bot's Worker loop on the
 * Redis queue take the tasks. What happened is read from what the workers wrote, not from the queue.
 */

const SECRET = 'redis-test-webhook-secret';
const redis = new RedisServer();
let dir: string;
let log: string;
const children: ChildProcess[] = [];

beforeAll(async () => {
  await redis.start();
});
afterAll(async () => {
  await redis.stop();
});
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-redis-procs-'));
  log = join(dir, 'work.log');
});
afterEach(async () => {
  for (const child of children.splice(0)) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await rm(dir, { recursive: true, force: true });
});

function startWorker(prefix: string, sleepMs: number): { child: ChildProcess; ready: Promise<void> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/processes/redis-worker.ts', redis.url, prefix, log, String(sleepMs)], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  const ready = new Promise<void>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('ready\n')) resolve();
    });
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code}: ${err}`)));
  });
  return { child, ready };
}

async function startIntake(): Promise<{ port: number; child: ChildProcess }> {
  const port = await freePort();
  const child = spawn(process.execPath, ['dist/src/main.js'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH,
      CODE4PY_ROLE: 'intake',
      REDIS_URL: redis.url,
      APP_ID: String(testApp().appId),
      PRIVATE_KEY: testApp().privateKey,
      WEBHOOK_SECRET: SECRET,
      PORT: String(port),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
    },
  });
  children.push(child);
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  for (let i = 0; i < 200; i++) {
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok).catch(() => false);
    if (ready) return { port, child };
    if (child.exitCode !== null) throw new Error(`intake exited with ${child.exitCode}: ${err}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`intake did not become ready: ${err}`);
}

const deliver = (port: number, id: string, payload: object) => postWebhook(port, SECRET, { event: 'issue_comment', id, payload });

interface LogLine {
  readonly event: 'start' | 'done';
  readonly task: string;
  readonly delivery: string;
  readonly pid: number;
  readonly seen: string;
}

async function lines(): Promise<LogLine[]> {
  const text = await readFile(log, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [event, task, delivery, pid, seen] = line.split(' ');
      return { event: event as LogLine['event'], task: task!, delivery: delivery!, pid: Number(pid), seen: seen! };
    });
}

async function waitFor(predicate: (all: LogLine[]) => boolean, ms = 30_000): Promise<LogLine[]> {
  const end = Date.now() + ms;
  for (;;) {
    const all = await lines();
    if (predicate(all)) return all;
    if (Date.now() > end) throw new Error(`timed out; the log has ${all.length} lines`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('Redis mode with several processes', () => {
  it('one intake process and two worker processes take 100 tasks, each processed exactly once', async () => {
    const workers = [startWorker('code4py', 30), startWorker('code4py', 30)];
    await Promise.all(workers.map((w) => w.ready));
    const { port } = await startIntake();

    const statuses = await Promise.all(
      Array.from({ length: 100 }, (_, i) => deliver(port, `delivery-${i}`, issueCommentCreatedPayload({ body: '/code4py', issue: { number: 1000 + i } }))),
    );
    expect(statuses.every((s) => s === 200)).toBe(true);
    // A redelivery of every one of them queues nothing more.
    const again = await Promise.all(Array.from({ length: 100 }, (_, i) => deliver(port, `delivery-${i}`, issueCommentCreatedPayload({ body: '/code4py', issue: { number: 1000 + i } }))));
    expect(again.every((s) => s === 200)).toBe(true);

    const all = await waitFor((l) => l.filter((x) => x.event === 'done').length >= 100);
    // Settle: nothing more may arrive.
    await new Promise((r) => setTimeout(r, 500));
    const final = await lines();
    const done = final.filter((l) => l.event === 'done');
    const starts = final.filter((l) => l.event === 'start');
    expect(done).toHaveLength(100);
    expect(starts).toHaveLength(100);
    expect(new Set(done.map((l) => l.delivery)).size).toBe(100);
    // Both workers took part.
    expect(new Set(all.map((l) => l.pid)).size).toBe(2);

    const queue = await openRedisQueue({ url: redis.url });
    try {
      expect(await queue.counts()).toEqual({ completed: 100 });
    } finally {
      await queue.close();
    }
  });

  it('a worker killed with kill -9 in the middle of a task: the other process finishes it, once', async () => {
    const prefix = 'crash';
    const queue: RedisQueue = await openRedisQueue({ url: redis.url, prefix });
    const request: TaskRequest = { deliveryId: 'crash-1', installationId: 7, owner: 'octo', repo: 'calc', issueNumber: 5, sender: 'alice', trigger: { kind: 'comment', commentId: 1, body: '/code4py', isPullRequest: false } };
    try {
      expect(await queue.accept(request)).toEqual({ queued: true });
      // The first worker takes the task and hangs in it.
      const slow = startWorker(prefix, 600_000);
      await slow.ready;
      const [started] = await waitFor((l) => l.some((x) => x.event === 'start'));
      expect(started).toMatchObject({ event: 'start', delivery: 'crash-1', pid: slow.child.pid, seen: '-' });

      const fast = startWorker(prefix, 50);
      await fast.ready;
      slow.child.kill('SIGKILL');

      // BullMQ's stalled-job check gives the task to the live worker once the dead one's lock expires.
      const all = await waitFor((l) => l.some((x) => x.event === 'done'));
      await new Promise((r) => setTimeout(r, 2500));
      const final = await lines();
      expect(final.filter((l) => l.event === 'done')).toEqual([{ event: 'done', task: started!.task, delivery: 'crash-1', pid: fast.child.pid, seen: String(slow.child.pid) }]);
      expect(all.filter((l) => l.event === 'start').map((l) => l.pid)).toEqual([slow.child.pid, fast.child.pid]);
      expect(await queue.counts()).toEqual({ completed: 1 });
      // The issue is free again: a new trigger makes a new task.
      expect(await queue.accept({ ...request, deliveryId: 'crash-2' })).toEqual({ queued: true });
    } finally {
      await queue.close();
    }
  });

  it('SIGTERM: the intake process stops listening and exits 0', async () => {
    const { port, child } = await startIntake();
    expect(await deliver(port, 'before-term', issueCommentCreatedPayload({ body: '/code4py', issue: { number: 77 } }))).toBe(200);
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/healthz`)).rejects.toThrow();
  });
});
