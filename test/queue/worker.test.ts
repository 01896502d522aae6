import { hostname } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ManualClock, request, useStoreFolder } from './helpers.js';

const folder = useStoreFolder();
const lease = { leaseMs: 60_000 };

describe('claim', () => {
  it('hands out the oldest task first and marks it running under a lease', () => {
    const clock = new ManualClock();
    const store = folder.open({ clock });
    for (const issueNumber of [3, 1, 2]) store.enqueue(request({ issueNumber }));
    const task = store.claim('w', lease)!;
    expect(task).toMatchObject({ state: 'running', workerId: 'w', attempts: 1, leaseExpiresAt: clock.now() + 60_000, request: { issueNumber: 3 } });
    expect(store.claim('w', lease)?.request.issueNumber).toBe(1);
    expect(store.claim('w', lease)?.request.issueNumber).toBe(2);
    expect(store.claim('w', lease)).toBeNull();
  });

  it('never gives one task to two stores on the same file', () => {
    const [a, b] = [folder.open(), folder.open()];
    for (let issueNumber = 1; issueNumber <= 50; issueNumber++) a.enqueue(request({ issueNumber }));
    const ids: string[] = [];
    for (let turn = 0; turn < 60; turn++) {
      const task = (turn % 2 ? a : b).claim(`w${turn % 2}`, lease);
      if (task) ids.push(task.id);
    }
    expect(ids).toHaveLength(50);
    expect(new Set(ids).size).toBe(50);
  });

  it('keeps each installation under its limit of running tasks, and control tasks outside it', () => {
    const store = folder.open();
    for (const issueNumber of [1, 2, 3]) store.enqueue(request({ issueNumber, installationId: 1 }));
    store.enqueue(request({ issueNumber: 9, installationId: 2 }));
    store.enqueue(request({ issueNumber: 1, installationId: 1, kind: 'help' }));
    const limited = { ...lease, maxRunningPerInstallation: 1 };
    const first = store.claim('w', limited)!;
    expect(first.request).toMatchObject({ installationId: 1, issueNumber: 1 });
    expect(store.claim('w', limited)?.request).toMatchObject({ installationId: 2 });
    expect(store.claim('w', limited)?.request).toMatchObject({ kind: 'help' });
    expect(store.claim('w', limited)).toBeNull();
    store.complete(first.id, 'w', null);
    expect(store.claim('w', limited)?.request).toMatchObject({ installationId: 1, issueNumber: 2 });
  });

  it('with onlyControl, takes a cancel waiting behind work (a busy worker still hears it)', () => {
    const store = folder.open();
    store.enqueue(request({ issueNumber: 1 }));
    store.enqueue(request({ issueNumber: 2 }));
    store.enqueue(request({ issueNumber: 1, kind: 'cancel' }));
    expect(store.claim('w', { ...lease, onlyControl: true })?.request.kind).toBe('cancel');
    expect(store.claim('w', { ...lease, onlyControl: true })).toBeNull();
  });
});

describe('the lease', () => {
  it('runs out without heartbeats: claim takes the task back for another worker, and the first one loses it', () => {
    const clock = new ManualClock();
    const store = folder.open({ clock });
    const { task } = store.enqueue(request());
    store.claim('a', { leaseMs: 1_000 });
    expect(store.claim('b', lease)).toBeNull();
    clock.advance(1_001);
    expect(store.claim('b', lease)).toMatchObject({ id: task!.id, workerId: 'b', attempts: 2, crashes: 1 });
    expect(store.heartbeat(task!.id, 'a')).toEqual({ owned: false, cancelRequested: false });
    expect(store.complete(task!.id, 'a', 'late')).toBe(false);
    expect(store.getTask(task!.id)).toMatchObject({ state: 'running', workerId: 'b' });
  });

  it('is extended by a heartbeat', () => {
    const clock = new ManualClock();
    const store = folder.open({ clock });
    store.enqueue(request());
    const task = store.claim('a', { leaseMs: 1_000 })!;
    clock.advance(800);
    expect(store.heartbeat(task.id, 'a')).toEqual({ owned: true, cancelRequested: false });
    clock.advance(800);
    expect(store.claim('b', lease)).toBeNull();
    expect(store.getTask(task.id)?.leaseExpiresAt).toBe(clock.now() + 200);
  });
});

describe('the end of a run', () => {
  it('complete stores the result and frees the issue', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    store.claim('w', lease);
    expect(store.complete(task!.id, 'w', { pullRequestNumber: 12 })).toBe(true);
    expect(store.getTask(task!.id)).toMatchObject({ state: 'done', result: { pullRequestNumber: 12 }, workerId: null, leaseExpiresAt: null });
    expect(store.getEvents(task!.id).map((e) => e.type)).toEqual(['queued', 'claimed', 'completed']);
  });

  it('a retryable failure comes back after a backoff, until the attempts run out', () => {
    const clock = new ManualClock();
    const store = folder.open({ clock, backoff: { maxAttempts: 2, baseDelayMs: 10_000, maxDelayMs: 60_000 }, random: () => 1 });
    const { task } = store.enqueue(request());
    store.claim('w', lease);
    expect(store.fail(task!.id, 'w', new Error('model answered 503'), { retryable: true })).toEqual({ state: 'queued', runAfter: clock.now() + 10_000 });
    expect(store.claim('w', lease)).toBeNull();
    clock.advance(10_000);
    expect(store.claim('w', lease)?.attempts).toBe(2);
    expect(store.fail(task!.id, 'w', new Error('model answered 503 again'), { retryable: true })).toEqual({ state: 'failed' });
    expect(store.getTask(task!.id)?.error).toEqual({ message: 'model answered 503 again', name: 'Error', retryable: true });
    expect(store.getEvents(task!.id).map((e) => [e.type, e.attempt])).toEqual([
      ['queued', 0],
      ['claimed', 1],
      ['retry-scheduled', 1],
      ['claimed', 2],
      ['failed', 2],
    ]);
  });

  it('a failure that is not retryable fails at once', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    store.claim('w', lease);
    expect(store.fail(task!.id, 'w', { message: 'the configuration is invalid' }, { retryable: false })).toEqual({ state: 'failed' });
    expect(store.fail(task!.id, 'w', { message: 'twice' }, { retryable: false })).toEqual({ state: 'not-owner' });
  });

  it('requeue on shutdown gives the task back at the front of the queue with its checkpoints', () => {
    const store = folder.open();
    const first = store.enqueue(request({ issueNumber: 1 })).task!;
    store.claim('w', lease);
    store.enqueue(request({ issueNumber: 2 }));
    store.setCheckpoint(first.id, 'branchSha', 'abc');
    expect(store.requeue(first.id, 'w')).toBe(true);
    expect(store.claim('w2', lease)).toMatchObject({ id: first.id, attempts: 2, crashes: 0 });
    expect(store.getCheckpoints(first.id)).toEqual({ branchSha: 'abc' });
  });
});

describe('cancel', () => {
  it('drops a queued task', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    expect(store.cancel('octo-org', 'calculator', 1)).toMatchObject({ outcome: 'cancelled', task: { id: task!.id, state: 'cancelled' } });
    expect(store.claim('w', lease)).toBeNull();
    expect(store.isCancelled(task!.id)).toBe(true);
  });

  it('asks a running task to stop; the worker hears it on its heartbeat and confirms', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    store.claim('w', lease);
    expect(store.cancel('octo-org', 'calculator', 1)).toMatchObject({ outcome: 'cancel-requested', task: { state: 'running', cancelRequested: true } });
    expect(store.heartbeat(task!.id, 'w')).toEqual({ owned: true, cancelRequested: true });
    expect(store.isCancelled(task!.id)).toBe(true);
    expect(store.confirmCancelled(task!.id, 'w')).toBe(true);
    expect(store.getTask(task!.id)?.state).toBe('cancelled');
    expect(store.enqueue(request()).created).toBe(true);
  });

  it('says when there is nothing to cancel', () => {
    expect(folder.open().cancel('octo-org', 'calculator', 1)).toEqual({ outcome: 'nothing-active' });
  });
});

describe('retry', () => {
  it('queues a failed task again: same record, history and checkpoints kept, limits counted afresh', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    store.claim('w', lease);
    store.setCheckpoint(task!.id, 'statusCommentId', 42);
    store.fail(task!.id, 'w', { message: 'sandbox unavailable' }, { retryable: false });
    expect(store.retry('Octo-Org', 'calculator', 1)).toMatchObject({ outcome: 'queued', task: { id: task!.id, state: 'queued', error: null, failures: 0 } });
    expect(store.claim('w', lease)).toMatchObject({ id: task!.id, attempts: 2 });
    expect(store.getCheckpoints(task!.id)).toEqual({ statusCommentId: 42 });
    expect(store.getEvents(task!.id).map((e) => e.type)).toEqual(['queued', 'claimed', 'failed', 'retried', 'claimed']);
  });

  it('queues a cancelled task again', () => {
    const store = folder.open();
    store.enqueue(request());
    store.cancel('octo-org', 'calculator', 1);
    expect(store.retry('octo-org', 'calculator', 1).outcome).toBe('queued');
  });

  it('leaves an active or a finished task alone', () => {
    const store = folder.open();
    expect(store.retry('octo-org', 'calculator', 1)).toEqual({ outcome: 'nothing-to-retry', task: null });
    const { task } = store.enqueue(request());
    expect(store.retry('octo-org', 'calculator', 1).outcome).toBe('already-active');
    store.claim('w', lease);
    store.complete(task!.id, 'w', null);
    expect(store.retry('octo-org', 'calculator', 1)).toMatchObject({ outcome: 'nothing-to-retry', task: { state: 'done' } });
  });
});

describe('recoverOnStart', () => {
  // A store speaking for the previous run of this process (same pid, another boot): what a restart finds.
  const previousRun = { host: hostname(), pid: process.pid, boot: 'the-previous-run' };

  it('leaves alone the running tasks of a process that is alive', () => {
    const store = folder.open();
    store.enqueue(request());
    store.claim('w', lease);
    expect(folder.open().recoverOnStart()).toEqual({ requeued: [], failed: [], cancelled: [] });
  });

  it('cancels a task that was asked to stop when its process died', () => {
    const { task } = folder.open({ process: previousRun }).enqueue(request());
    const dead = folder.open({ process: previousRun });
    dead.claim('w', lease);
    dead.cancel('octo-org', 'calculator', 1);
    expect(folder.open().recoverOnStart()).toEqual({ requeued: [], failed: [], cancelled: [task!.id] });
  });

  it('fails a task that killed its process three times instead of starting it forever', () => {
    const dead = folder.open({ process: previousRun });
    const restarted = folder.open();
    const { task } = dead.enqueue(request());
    for (let crash = 1; crash <= 2; crash++) {
      dead.claim('w', lease);
      expect(restarted.recoverOnStart().requeued).toEqual([task!.id]);
    }
    dead.claim('w', lease);
    expect(restarted.recoverOnStart()).toEqual({ requeued: [], failed: [task!.id], cancelled: [] });
    expect(restarted.getTask(task!.id)).toMatchObject({ state: 'failed', crashes: 3, error: { name: 'PoisonTaskError', retryable: false } });
    expect(restarted.getTask(task!.id)?.error?.message).toMatch(/stopped 3 times .* not started again on its own/);
    expect(restarted.getEvents(task!.id).filter((e) => e.type === 'crashed').map((e) => e.attempt)).toEqual([1, 2, 3]);
    expect(restarted.claim('w', lease)).toBeNull();
  });

  it('forgets delivery ids older than the retention', () => {
    const clock = new ManualClock();
    const store = folder.open({ clock, deliveryRetentionMs: 1_000 });
    store.recordDelivery('old', 'issues.labeled');
    clock.advance(1_001);
    store.recoverOnStart();
    expect(store.recordDelivery('old', 'issues.labeled')).toBe(true);
  });
});

describe('checkpoints', () => {
  it('keep the last value of each key, as JSON', () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    store.setCheckpoint(task!.id, 'pullRequestNumber', 7);
    store.setCheckpoint(task!.id, 'tokens', { prompt: 1200, completion: 300 });
    store.setCheckpoint(task!.id, 'pullRequestNumber', 8);
    expect(store.getCheckpoints(task!.id)).toEqual({ pullRequestNumber: 8, tokens: { prompt: 1200, completion: 300 } });
  });

  it('belong to a task that exists', () => {
    expect(() => folder.open().setCheckpoint('no-such-task', 'k', 1)).toThrow(/FOREIGN KEY/);
  });
});
