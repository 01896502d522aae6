import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openQueue, type EmbeddedQueue } from '../../src/store/embedded-queue.js';
import type { TaskRequest } from '../../src/webhooks/requests.js';

let dir: string;
let path: string;
const open: EmbeddedQueue[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-store-'));
  path = join(dir, 'nested', 'code4py.db');
});
afterEach(async () => {
  while (open.length) open.pop()!.close();
  await rm(dir, { recursive: true, force: true });
});

function queue(now?: () => number): EmbeddedQueue {
  const q = openQueue(path, now);
  open.push(q);
  return q;
}

function request(issueNumber: number, deliveryId = `d-${issueNumber}-${Math.random()}`): TaskRequest {
  return { deliveryId, installationId: 1, owner: 'octo', repo: 'calc', issueNumber, sender: 'maintainer', trigger: { kind: 'label', labels: ['code4py'] } };
}

function commentRequest(issueNumber: number): TaskRequest {
  return { ...request(issueNumber), trigger: { kind: 'comment', commentId: 1, body: '/code4py', isPullRequest: false } };
}

function child(...args: string[]): { done: Promise<string>; kill: () => void; firstLine: Promise<string>; code: Promise<number | null> } {
  const process_ = spawn(process.execPath, ['--import', 'tsx', 'test/fixtures/processes/queue-worker.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let resolveFirst: (line: string) => void;
  const firstLine = new Promise<string>((r) => (resolveFirst = r));
  process_.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.includes('\n')) resolveFirst(out.split('\n')[0]!);
  });
  const code = new Promise<number | null>((resolve) => process_.on('close', (c) => resolve(c)));
  const done = code.then(() => out);
  return { done, firstLine, code, kill: () => process_.kill('SIGKILL') };
}

describe('the embedded queue', () => {
  it('records a delivery once: a redelivered webhook queues nothing', () => {
    const q = queue();
    expect(q.accept(request(1, 'same'))).toEqual({ queued: true });
    expect(q.accept(request(2, 'same'))).toEqual({ queued: false, reason: 'delivery already seen' });
    expect(q.counts()).toEqual({ queued: 1 });
  });

  it('keeps one active task per issue, and takes a new trigger once the task is done', () => {
    const q = queue();
    expect(q.accept(request(1))).toEqual({ queued: true });
    expect(q.accept(commentRequest(1))).toEqual({ queued: false, reason: 'a task for this issue is already queued or running' });
    const task = q.claim('w')!;
    expect(q.accept(commentRequest(1)).queued).toBe(false);
    q.complete(task.id, 'w', 'pull-request');
    expect(q.accept(commentRequest(1))).toEqual({ queued: true });
    expect(q.counts()).toEqual({ done: 1, queued: 1 });
  });

  it('makes one task of the opened and labeled deliveries of an issue opened with the label, even when the first is done', () => {
    let clock = 1_000_000;
    const q = queue(() => clock);
    expect(q.accept(request(1)).queued).toBe(true);
    const task = q.claim('w')!;
    q.complete(task.id, 'w', 'pull-request');
    clock += 5_000;
    expect(q.accept(request(1))).toEqual({ queued: false, reason: 'the issue was labelled moments ago (issues.opened and issues.labeled)' });
    clock += 11 * 60_000;
    expect(q.accept(request(1)).queued).toBe(true);
  });

  it('takes a plain comment as an answer only while the issue waits for one, and only once', () => {
    const q = queue();
    const answer = (id: string): TaskRequest => ({ ...request(1, id), trigger: { kind: 'answer', commentId: 5 } });
    expect(q.accept(answer('a1'))).toEqual({ queued: false, reason: 'not a command, and no question is waiting for an answer' });
    q.accept(request(1));
    const asked = q.claim('w')!;
    q.complete(asked.id, 'w', 'clarification');
    q.awaitAnswer(asked.request);
    expect(q.accept(answer('a2'))).toEqual({ queued: true });
    const resumed = q.claim('w')!;
    q.complete(resumed.id, 'w', 'pull-request');
    expect(q.accept(answer('a3')).queued).toBe(false);
  });

  it('takes 500 deliveries and hands them out oldest first', () => {
    const q = queue();
    for (let i = 1; i <= 500; i++) expect(q.accept(request(i)).queued).toBe(true);
    expect(q.claim('w')?.request.issueNumber).toBe(1);
    expect(q.claim('w')?.request.issueNumber).toBe(2);
  });

  it('gives a task whose lease ran out to another worker', () => {
    let clock = 1_000_000;
    const q = queue(() => clock);
    q.accept(request(1));
    const first = q.claim('a')!;
    expect(q.claim('b')).toBeNull();
    clock += 10 * 60_000;
    expect(q.claim('b')?.id).toBe(first.id);
    // The first worker's late answer no longer counts.
    q.complete(first.id, 'a', 'late');
    expect(q.counts()).toEqual({ running: 1 });
  });

  it('keeps checkpoints and gives a task back on release', () => {
    const q = queue();
    q.accept(request(1));
    const task = q.claim('w')!;
    q.checkpoints(task.id).set('commitSha', 'abc');
    q.release(task.id, 'w');
    const again = q.claim('w')!;
    expect(again.id).toBe(task.id);
    expect(q.checkpoints(again.id).get()).toEqual({ commitSha: 'abc' });
  });

  it('hands each task to exactly one of two worker processes racing for 100 tasks', async () => {
    const q = queue();
    for (let i = 1; i <= 100; i++) q.accept(request(i));
    const [a, b] = [child('claim-all', path, 'a'), child('claim-all', path, 'b')];
    const ids = [...(await a.done).split('\n'), ...(await b.done).split('\n')].filter(Boolean);
    expect([await a.code, await b.code]).toEqual([0, 0]);
    expect(ids.length).toBe(100);
    expect(new Set(ids).size).toBe(100);
    expect(q.counts()).toEqual({ done: 100 });
  });

  it('takes up a task again, once, after its worker is killed with kill -9, checkpoints and file intact', async () => {
    const q = queue();
    q.accept(request(1));
    const worker = child('claim-and-hang', path, 'doomed');
    const line = await worker.firstLine;
    const id = line.replace('claimed ', '');
    worker.kill();
    await worker.done;

    const restarted = queue();
    expect(restarted.recoverOnStart()).toEqual({ requeued: 1, failed: 0 });
    const task = restarted.claim('survivor')!;
    expect(task.id).toBe(id);
    expect(restarted.checkpoints(id).get()).toEqual({ commitSha: 'abc123' });
    expect(restarted.claim('other')).toBeNull();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    db.close();
  });

  it('fails a task that keeps killing its worker instead of retrying it forever', () => {
    const q = queue();
    q.accept(request(1));
    for (let crash = 0; crash < 3; crash++) {
      q.claim('w');
      q.recoverOnStart();
    }
    expect(q.counts()).toEqual({ failed: 1 });
  });

  it('says what to do when the file is not a database or cannot be created', async () => {
    await writeFile(join(dir, 'junk.db'), 'this is not sqlite '.repeat(100));
    expect(() => openQueue(join(dir, 'junk.db'))).toThrow(/cannot open the task store at .*junk\.db .*Point CODE4PY_DB_PATH at a writable file/);
    await writeFile(join(dir, 'a-file'), 'x');
    expect(() => openQueue(join(dir, 'a-file', 'sub', 'code4py.db'))).toThrow(/cannot open the task store/);
  });

  it('lets each installation run at most its limit at once; others go ahead of its queued tasks', () => {
    const q = openQueue(path, { installationConcurrency: 1 });
    open.push(q);
    const of = (issue: number, installationId: number): TaskRequest => ({ ...request(issue), installationId });
    q.accept(of(1, 111));
    q.accept(of(2, 111));
    q.accept(of(3, 222));
    const first = q.claim('w')!;
    const second = q.claim('w')!;
    expect([first.request.issueNumber, second.request.issueNumber]).toEqual([1, 3]);
    expect(q.claim('w')).toBeNull();
    q.complete(first.id, 'w', 'pull-request');
    expect(q.claim('w')?.request.issueNumber).toBe(2);
  });

  it('counts model tokens per installation and UTC day, and starts from zero the next day', () => {
    let now = Date.parse('2026-11-23T23:59:00Z');
    const q = queue(() => now);
    q.addTokens(5, 1000);
    q.addTokens(5, 234);
    q.addTokens(6, 1);
    expect([q.tokensSpentToday(5), q.tokensSpentToday(6)]).toEqual([1234, 1]);
    now = Date.parse('2026-11-24T00:00:01Z');
    expect(q.tokensSpentToday(5)).toBe(0);
  });
});
