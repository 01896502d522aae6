import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { child, request, useStoreFolder } from './helpers.js';

const folder = useStoreFolder();

describe('two worker processes on one store file', () => {
  it('racing for 100 tasks, claim each task exactly once', async () => {
    const store = folder.open();
    for (let issueNumber = 1; issueNumber <= 100; issueNumber++) store.enqueue(request({ issueNumber }));
    const workers = [child('race', folder.path, 'a'), child('race', folder.path, 'b')];
    await Promise.all(workers.map((w) => w.line(/^ready$/)));
    for (const w of workers) w.send('go\n');
    const exits = await Promise.all(workers.map((w) => w.exit));

    expect(exits.map((e) => [e.code, e.err])).toEqual([
      [0, ''],
      [0, ''],
    ]);
    const byWorker = exits.map((e) => e.out.split('\n').filter((l) => l !== 'ready' && l !== ''));
    // Each holds a task for a moment before completing it, so both get a share: the race is real.
    expect(byWorker.every((ids) => ids.length > 0)).toBe(true);
    const claimed = byWorker.flat();
    expect(claimed).toHaveLength(100);
    expect(new Set(claimed).size).toBe(100);
    expect(store.countByState()).toMatchObject({ done: 100, queued: 0, running: 0 });
  });
});

describe('a worker process killed with kill -9 in the middle of a task', () => {
  it('gets its task back exactly once at the next start, checkpoints kept and the file intact', async () => {
    const store = folder.open();
    const { task } = store.enqueue(request());
    const worker = child('hold', folder.path, 'doomed');
    expect(await worker.line(/^claimed /)).toBe(`claimed ${task!.id}`);
    const last = Number((await worker.line(/^wrote ([2-9]\d\d|\d{4,})$/)).split(' ')[1]);

    // Alive, it keeps its task: a second process starting on the file must not take it.
    expect(folder.open().recoverOnStart()).toEqual({ requeued: [], failed: [], cancelled: [] });
    worker.kill();
    expect((await worker.exit).signal).toBe('SIGKILL');

    const restarted = folder.open();
    expect(restarted.recoverOnStart()).toEqual({ requeued: [task!.id], failed: [], cancelled: [] });
    expect(restarted.recoverOnStart().requeued).toEqual([]);
    expect(restarted.claim('survivor', { leaseMs: 60_000 })).toMatchObject({ id: task!.id, attempts: 2, crashes: 1 });
    expect(restarted.claim('another', { leaseMs: 60_000 })).toBeNull();

    const checkpoints = restarted.getCheckpoints(task!.id);
    expect(checkpoints.branchSha).toBe('a'.repeat(40));
    // Every write acknowledged before the kill is there (and maybe a few after the last line printed).
    expect(checkpoints.counter).toBeGreaterThanOrEqual(last);
    expect(restarted.getEvents(task!.id).map((e) => e.type)).toEqual(['queued', 'claimed', 'crashed', 'claimed']);

    const db = new Database(folder.path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });
});
