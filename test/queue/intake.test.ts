import { describe, expect, it } from 'vitest';
import { ManualClock, request, useStoreFolder } from './helpers.js';

const folder = useStoreFolder();

describe('a webhook delivery', () => {
  it('is recorded once: a redelivery with the same id is reported as seen', () => {
    const store = folder.open();
    expect(store.recordDelivery('d-1', 'issues.labeled')).toBe(true);
    expect(store.recordDelivery('d-1', 'issues.labeled')).toBe(false);
  });

  it('is enqueued once: a redelivered trigger returns the task the first one made', () => {
    const store = folder.open();
    const first = store.enqueue(request({ deliveryId: 'd-1' }));
    const again = store.enqueue(request({ deliveryId: 'd-1' }));
    expect(first.created).toBe(true);
    expect(again).toEqual({ created: false, reason: 'duplicate-delivery', task: first.task });
    expect(store.countByState().queued).toBe(1);
  });

  it('may be recorded before it is enqueued, and is then enqueued once', () => {
    const store = folder.open();
    expect(store.recordDelivery('d-1', 'issue_comment.created')).toBe(true);
    expect(store.enqueue(request({ deliveryId: 'd-1' })).created).toBe(true);
    expect(store.enqueue(request({ deliveryId: 'd-1' })).created).toBe(false);
    expect(store.recordDelivery('d-1', 'issue_comment.created')).toBe(false);
  });

  it('takes 500 deliveries for 500 issues, delivered twice, as 500 tasks', () => {
    const store = folder.open();
    const requests = Array.from({ length: 500 }, (_, i) => request({ issueNumber: i + 1, deliveryId: `burst-${i}` }));
    const created = requests.map((r) => store.enqueue(r)).filter((r) => r.created).length;
    const createdAgain = requests.map((r) => store.enqueue(r)).filter((r) => r.created).length;
    expect([created, createdAgain]).toEqual([500, 0]);
    expect(store.countByState()).toEqual({ queued: 500, running: 0, done: 0, failed: 0, cancelled: 0 });
  });

  it('is refused before anything is written when it is not a valid request', () => {
    const store = folder.open();
    expect(() => store.enqueue(request({ issueNumber: -1, deliveryId: 'bad' }))).toThrow(/issueNumber/);
    expect(store.recordDelivery('bad', 'issues.labeled')).toBe(true);
  });
});

describe('one active task per issue', () => {
  it('joins a second trigger to the queued task and says so', () => {
    const store = folder.open();
    const first = store.enqueue(request({ kind: 'generate' }));
    const second = store.enqueue(request({ kind: 'refine', payload: { feedback: 'use Decimal' } }));
    expect(second).toMatchObject({ created: false, reason: 'issue-busy', task: { id: first.task!.id } });
    expect(store.getEvents(first.task!.id).map((e) => e.type)).toEqual(['queued', 'merged']);
    expect(store.getEvents(first.task!.id)[1]?.detail).toMatchObject({ reason: 'issue-busy', kind: 'refine', sender: 'maintainer' });
  });

  it('joins a trigger to the running task too', () => {
    const store = folder.open();
    const first = store.enqueue(request());
    store.claim('w', { leaseMs: 60_000 });
    expect(store.enqueue(request())).toMatchObject({ created: false, reason: 'issue-busy', task: { id: first.task!.id, state: 'running' } });
  });

  it('makes a new task for a trigger after the last one finished', () => {
    const store = folder.open();
    const first = store.enqueue(request()).task!;
    store.claim('w', { leaseMs: 60_000 });
    store.complete(first.id, 'w', { pullRequest: 12 });
    const next = store.enqueue(request());
    expect(next.created).toBe(true);
    expect(next.task!.id).not.toBe(first.id);
    expect(store.countByState()).toMatchObject({ done: 1, queued: 1 });
  });

  it('treats owner and repository names without regard to case, as GitHub does', () => {
    const store = folder.open();
    store.enqueue(request({ owner: 'Octo-Org', repo: 'Calculator' }));
    expect(store.enqueue(request({ owner: 'octo-org', repo: 'calculator' })).created).toBe(false);
  });

  it('lets cancel, retry and help through beside the active task, as control tasks', () => {
    const store = folder.open();
    const work = store.enqueue(request()).task!;
    const cancel = store.enqueue(request({ kind: 'cancel', payload: { commentId: 5 } }));
    const help = store.enqueue(request({ kind: 'help' }));
    expect(cancel).toMatchObject({ created: true, task: { lane: 'control', state: 'queued' } });
    expect(help.created).toBe(true);
    expect(store.getTask(work.id)?.state).toBe('queued');
  });
});

describe('an issue opened with the label (issues.opened and issues.labeled)', () => {
  it('makes one task even when the first delivery finished already, and a new one later', () => {
    const clock = new ManualClock();
    const store = folder.open({ clock });
    const coalesce = { key: 'label', withinMs: 10 * 60_000 };
    const first = store.enqueue(request(), { coalesce }).task!;
    store.claim('w', { leaseMs: 60_000 });
    store.complete(first.id, 'w', null);
    clock.advance(2_000);
    expect(store.enqueue(request(), { coalesce })).toMatchObject({ created: false, reason: 'coalesced', task: { id: first.id } });
    clock.advance(10 * 60_000);
    expect(store.enqueue(request(), { coalesce }).created).toBe(true);
  });
});

describe('a plain comment (an answer)', () => {
  it('writes nothing unless the issue waits for an answer', () => {
    const store = folder.open();
    expect(store.enqueue(request({ kind: 'answer', deliveryId: 'c-1' }))).toEqual({ created: false, reason: 'not-awaiting-answer', task: null });
    expect(store.recordDelivery('c-1', 'issue_comment.created')).toBe(true);
  });

  it('makes one task while the issue waits, and the next answer waits for a new question', () => {
    const store = folder.open();
    const asked = store.enqueue(request()).task!;
    store.claim('w', { leaseMs: 60_000 });
    store.complete(asked.id, 'w', { outcome: 'clarification' });
    store.awaitAnswer('octo-org', 'calculator', 1);
    expect(store.enqueue(request({ kind: 'answer', payload: { commentId: 9 } })).created).toBe(true);
    expect(store.enqueue(request({ kind: 'answer' })).created).toBe(false);
  });
});
