import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openRedisQueue, type RedisQueue } from '../../src/store/redis-queue.js';
import type { TaskRequest } from '../../src/webhooks/requests.js';
import { RedisServer } from '../helpers/redis.js';

/** The Redis queue's rules, on a real redis-server: the same ones the embedded store keeps. */

const server = new RedisServer();
let redis: Redis;
const opened: RedisQueue[] = [];

beforeAll(async () => {
  await server.start();
  redis = new Redis(server.url);
});
afterAll(async () => {
  redis.disconnect();
  await server.stop();
});
beforeEach(async () => {
  await redis.flushall();
});
afterEach(async () => {
  for (const q of opened.splice(0)) await q.close();
});

async function queue(options: { installationConcurrency?: number; fairnessDelayMs?: number } = {}): Promise<RedisQueue> {
  const q = await openRedisQueue({ url: server.url, lockMs: 2000, stalledCheckMs: 500, ...options });
  opened.push(q);
  return q;
}

function request(issueNumber: number, deliveryId: string, trigger: TaskRequest['trigger'] = { kind: 'comment', commentId: 1, body: '/code4py', isPullRequest: false }, installationId = 1): TaskRequest {
  return { deliveryId, installationId, owner: 'octo', repo: 'calc', issueNumber, sender: 'alice', trigger };
}
const command = (body: string): TaskRequest['trigger'] => ({ kind: 'comment', commentId: 2, body, isPullRequest: false });

describe('the Redis queue', () => {
  it('records a delivery once, keeps one active task per issue, and takes a new trigger once the task is done', async () => {
    const q = await queue();
    expect(await q.accept(request(1, 'a'))).toEqual({ queued: true });
    expect(await q.accept(request(1, 'a'))).toEqual({ queued: false, reason: 'delivery already seen' });
    expect(await q.accept(request(1, 'b'))).toEqual({ queued: false, reason: 'a task for this issue is already queued or running' });
    const task = await q.claim('w');
    expect(task?.request.deliveryId).toBe('a');
    expect(await q.accept(request(1, 'c'))).toEqual({ queued: false, reason: 'a task for this issue is already queued or running' });
    await q.complete(task!.id, 'w', 'pull-request');
    expect(await q.accept(request(1, 'd'))).toEqual({ queued: true });
    expect(await q.counts()).toEqual({ completed: 1, waiting: 1 });
  });

  it('coalesces issues.opened and issues.labeled into one task', async () => {
    const q = await queue();
    const label: TaskRequest['trigger'] = { kind: 'label', labels: ['code4py'] };
    expect(await q.accept(request(2, 'opened', label))).toEqual({ queued: true });
    const task = await q.claim('w');
    await q.complete(task!.id, 'w', 'pull-request');
    expect(await q.accept(request(2, 'labeled', label))).toEqual({ queued: false, reason: 'the issue was labelled moments ago (issues.opened and issues.labeled)' });
  });

  it('takes a plain comment only as the answer an issue waits for', async () => {
    const q = await queue();
    const answer: TaskRequest['trigger'] = { kind: 'answer', commentId: 9 };
    expect(await q.accept(request(3, 'early', answer))).toEqual({ queued: false, reason: 'not a command, and no question is waiting for an answer' });
    await q.awaitAnswer(request(3, 'x'));
    expect(await q.accept(request(3, 'answer', answer))).toEqual({ queued: true });
    // The answer's task took the issue out of waiting: a second plain comment is nothing.
    expect(await q.accept(request(3, 'chatter', answer))).toEqual({ queued: false, reason: 'not a command, and no question is waiting for an answer' });
  });

  it('hands a control command (cancel) to a busy worker beside the running task', async () => {
    const q = await queue();
    await q.accept(request(4, 'work'));
    const running = await q.claim('w');
    expect(await q.accept(request(4, 'cancel', command('/code4py cancel')))).toEqual({ queued: true });
    // The worker is at its concurrency: only control tasks may come.
    const control = await q.claim('w', { onlyControl: true });
    expect(control?.request.deliveryId).toBe('cancel');
    expect(await q.cancelIssue(control!.request)).toEqual({ dropped: 0, stopping: 1 });
    expect(await q.isCancelRequested(running!.id)).toBe(true);
    await q.complete(control!.id, 'w', 'answered');
    await q.complete(running!.id, 'w', 'cancelled');
    expect(await q.accept(request(4, 'again'))).toEqual({ queued: true });
  });

  it('drops a queued task on cancel, and frees its issue', async () => {
    const q = await queue();
    await q.accept(request(5, 'queued'));
    expect(await q.cancelIssue(request(5, 'c'))).toEqual({ dropped: 1, stopping: 0 });
    expect(await q.claim('w')).toBeNull();
    expect(await q.accept(request(5, 'new'))).toEqual({ queued: true });
  });

  it('gives a released task back with its checkpoints, to this or another process', async () => {
    const a = await queue();
    const b = await queue();
    await a.accept(request(6, 'r'));
    const task = await a.claim('wa');
    const saved = await a.checkpoints(task!.id);
    saved.set('commitSha', 'abc123');
    saved.set('statusCommentId', 77);
    await saved.flush?.();
    await a.release(task!.id, 'wa');
    const again = await b.claim('wb');
    expect(again?.id).toBe(task!.id);
    expect((await b.checkpoints(again!.id)).get()).toEqual({ commitSha: 'abc123', statusCommentId: 77 });
  });

  it('lets each installation run at most its limit at once, so one busy installation cannot starve the others', async () => {
    const q = await queue({ installationConcurrency: 1, fairnessDelayMs: 200 });
    await q.accept(request(10, 'busy-1', undefined, 111));
    await q.accept(request(11, 'busy-2', undefined, 111));
    await q.accept(request(12, 'quiet-1', undefined, 222));
    const first = await q.claim('w');
    const second = await q.claim('w');
    expect([first?.request.deliveryId, second?.request.deliveryId]).toEqual(['busy-1', 'quiet-1']);
    // busy-2 waits while busy-1 runs...
    expect(await q.claim('w')).toBeNull();
    await q.complete(first!.id, 'w', 'pull-request');
    await new Promise((r) => setTimeout(r, 300));
    // ...and runs once its installation has a free slot.
    expect((await q.claim('w'))?.request.deliveryId).toBe('busy-2');
  });

  it('counts model tokens per installation and UTC day', async () => {
    const q = await queue();
    expect(await q.tokensSpentToday(5)).toBe(0);
    await q.addTokens(5, 1200);
    await q.addTokens(5, 300);
    await q.addTokens(6, 10);
    expect([await q.tokensSpentToday(5), await q.tokensSpentToday(6)]).toEqual([1500, 10]);
  });

  it('takes over the lock of an issue whose task ended without letting go (its worker died for good)', async () => {
    const q = await queue();
    await redis.set('code4py:active:octo/calc#8', 'a-task-that-is-gone');
    expect(await q.accept(request(8, 'after'))).toEqual({ queued: true });
    expect((await q.claim('w'))?.request.deliveryId).toBe('after');
  });

  it('says what to do when Redis cannot be reached, without the password', async () => {
    await expect(openRedisQueue({ url: 'redis://:hunter2-password@127.0.0.1:1' })).rejects.toThrow(/cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:1.*Check REDIS_URL/);
    await expect(openRedisQueue({ url: 'redis://:hunter2-password@127.0.0.1:1' })).rejects.not.toThrow(/hunter2/);
  });
});
