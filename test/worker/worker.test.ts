import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { OpenAIModelClient, type Analysis, type Solution } from '../../src/llm/index.js';
import { openQueue, type EmbeddedQueue } from '../../src/store/embedded-queue.js';
import type { TaskRequest } from '../../src/webhooks/requests.js';
import { Worker } from '../../src/worker/worker.js';
import { handleRequest, type RequestPorts } from '../../src/worker/handle-request.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { useValidation } from '../helpers/validation-ports.js';
import { MemoryGitHub } from '../helpers/memory-github.js';
import { processesWith } from '../helpers/host.js';

const ANALYSIS: Analysis = { intent: 'algorithm', title: 'Add double', module: 'double', requirements: ['double a number'], assumptions: [], needs_clarification: false, questions: [] };
const SOLUTION: Solution = {
  summary: 'double()',
  files: [
    { path: 'double.py', content: 'def double(x):\n    return 2 * x\n', patch: null },
    { path: 'test_double.py', content: 'from double import double\n\n\ndef test_double():\n    assert double(2) == 4\n', patch: null },
  ],
  dependencies: [],
};

const validation = useValidation();

let dir: string;
let queue: EmbeddedQueue;
let github: MemoryGitHub;
let model: FakeModelServer;
let config: unknown;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-worker-'));
  queue = openQueue(join(dir, 'db.sqlite'));
  github = new MemoryGitHub({ 'README.md': '# x\n' });
  github.permissions.set('maintainer', 'maintain');
  github.issues.set(3, { number: 3, title: 'Double', body: 'double(x) returns 2x', author: 'maintainer', state: 'open' });
  model = await new FakeModelServer().start();
  config = null;
});
afterEach(async () => {
  queue.close();
  await model.stop();
  await rm(dir, { recursive: true, force: true });
});

function worker(modelUrl = model.baseUrl): Worker {
  return new Worker({
    queue,
    concurrency: 1,
    pollMs: 20,
    log: { info: () => undefined, warn: () => undefined, error: () => undefined },
    portsFor: async (_request, checkpoints, signal) => ({
      github,
      model: new OpenAIModelClient({ apiKey: 'sk-test-worker-000000000000000000000', baseURL: modelUrl, model: 'fake', retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }),
      sandbox: validation.sandbox(),
      linter: validation.linter(),
      checkpoints,
      signal,
      defaultModel: 'fake',
      loadConfig: async () => config,
    }),
  });
}

function comment(deliveryId: string, body: string, sender = 'maintainer'): TaskRequest {
  return { deliveryId, installationId: 1, owner: 'octo', repo: 'calc', issueNumber: 3, sender, trigger: { kind: 'comment', commentId: 77, body, isPullRequest: false } };
}

async function drain(w: Worker): Promise<void> {
  w.start();
  // Let the first poll claim, then wait for the work to finish.
  await new Promise((r) => setTimeout(r, 60));
  await w.idle();
  await w.stop();
}

describe('the worker', () => {
  it('turns a /code4py comment into a pull request and marks the task done', async () => {
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    queue.accept(comment('d1', '/code4py'));
    await drain(worker());
    expect(github.pulls.length).toBe(1);
    expect(github.reactions).toEqual(['comment 77 eyes']);
    expect(queue.counts()).toEqual({ done: 1 });
  });

  it('says on the issue when the model is unreachable, marks the task failed, and `retry` queues it again', async () => {
    queue.accept(comment('d1', '/code4py'));
    await drain(worker('http://127.0.0.1:9/v1'));
    expect(queue.counts()).toEqual({ failed: 1 });
    const status = [...github.comments.values()].at(-1)!.body;
    expect(status).toMatch(/^❌ Code4Py stopped: .*127\.0\.0\.1/);
    expect(status).toContain('`/code4py retry`');
    expect(status).not.toContain('sk-test-worker');

    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    expect(queue.accept(comment('d2', '/code4py retry'))).toEqual({ queued: true });
    await drain(worker());
    expect(github.pulls.length).toBe(1);
    expect(queue.counts()).toEqual({ done: 1, failed: 1 });
  });

  it('names the repository\'s own command word when it reports a failure', async () => {
    config = { command: '/bot' };
    queue.accept(comment('d1', '/bot'));
    await drain(worker('http://127.0.0.1:9/v1'));
    const status = [...github.comments.values()].at(-1)?.body ?? '';
    expect(status).toContain('comment `/bot retry`');
    // The model's error says what is wrong; which command retries is the worker's to say, in this word only.
    expect(status).not.toContain('/code4py');
  });

  it('comments once naming the key of an invalid config, and does no work', async () => {
    config = { max_attempts: 99, paths: { alow: ['x'] } };
    queue.accept(comment('d1', '/code4py'));
    await drain(worker());
    const bodies = [...github.comments.values()].map((c) => c.body);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]).toContain('max_attempts: Too big');
    expect(bodies[0]).toContain('alow');
    expect(model.bodies).toEqual([]);
  });

  it('answers help, and an unknown command with the help text', async () => {
    queue.accept(comment('d1', '/code4py deploy'));
    await drain(worker());
    expect([...github.comments.values()][0]?.body).toContain('Code4Py does not know `deploy`');
    expect(model.bodies).toEqual([]);
  });

  it('ignores a label that is not the configured one', async () => {
    queue.accept({ ...comment('d1', ''), trigger: { kind: 'label', labels: ['bug'] } });
    await drain(worker());
    expect(github.writes).toEqual([]);
    expect(queue.counts()).toEqual({ done: 1 });
  });

  it('finishes a task that was running when its process died, with one commit and one pull request', async () => {
    model.script('code4py_analysis', ANALYSIS, ANALYSIS).script('code4py_solution', SOLUTION, SOLUTION);
    queue.accept(comment('d1', '/code4py'));
    const claimed = queue.claim('dying-worker')!;
    // The first process gets as far as the commit and the branch, then dies before the pull request.
    const createPullRequest = github.createPullRequest.bind(github);
    github.createPullRequest = async () => {
      throw new Error('process killed');
    };
    await expect(
      handleRequest(claimed.id, claimed.request, {
        github,
        model: new OpenAIModelClient({ apiKey: 'sk-test-worker-000000000000000000000', baseURL: model.baseUrl, model: 'fake' }),
        sandbox: validation.sandbox(),
        linter: validation.linter(),
        checkpoints: queue.checkpoints(claimed.id),
        defaultModel: 'fake',
        loadConfig: async () => null,
      }),
    ).rejects.toThrow('process killed');
    expect(github.writes.filter((w) => w === 'commit')).toHaveLength(1);
    github.createPullRequest = createPullRequest;

    // The next process starts: the task is taken up again and finished.
    expect(queue.recoverOnStart()).toEqual({ requeued: 1, failed: 0 });
    await drain(worker());
    expect(github.writes.filter((w) => w === 'commit')).toHaveLength(1);
    expect(github.pulls).toHaveLength(1);
    expect(queue.counts()).toEqual({ done: 1 });
  });

  it('cancel stops the running task at once: its sandbox is killed and nothing is published', async () => {
    const marker = `code4py-cancel-${Date.now()}`;
    const hanging: Solution = {
      ...SOLUTION,
      files: [SOLUTION.files[0]!, { path: 'test_double.py', content: `import subprocess\nimport sys\n\n\ndef test_hangs():\n    subprocess.run([sys.executable, "-c", "import time; time.sleep(120)", "${marker}"])\n`, patch: null }],
    };
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', hanging);
    queue.accept(comment('d1', '/code4py'));
    const w = worker();
    w.start();
    const deadline = Date.now() + 20_000;
    while ((await processesWith(marker)).length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect((await processesWith(marker)).length).toBeGreaterThan(0);

    const cancelledAt = Date.now();
    expect(queue.accept(comment('d2', '/code4py cancel'))).toEqual({ queued: true });
    await w.idle();
    await w.stop();
    expect(Date.now() - cancelledAt).toBeLessThan(10_000);
    expect(await processesWith(marker)).toEqual([]);
    expect(github.pulls).toEqual([]);
    expect(github.refs.has('code4py/issue-3')).toBe(false);
    const bodies = [...github.comments.values()].map((c) => c.body);
    expect(bodies).toContainEqual(expect.stringContaining('🛑 Cancelled by @maintainer: the running task is stopping'));
    expect(bodies).toContainEqual(expect.stringContaining('🛑 Code4Py stopped: the task was cancelled'));
  });

  it('cancel drops a queued task', async () => {
    queue.accept(comment('d1', '/code4py'));
    expect(queue.cancelIssue(comment('d2', '/code4py cancel'))).toEqual({ dropped: 1, stopping: 0 });
    expect(queue.counts()).toEqual({ cancelled: 1 });
  });

  it('runs control tasks beyond its concurrency, but at most two more: a burst of help comments starts a few at a time', async () => {
    for (let n = 1; n <= 10; n++) queue.accept({ ...comment(`h${n}`, '/code4py help'), issueNumber: n });
    let running = 0;
    let most = 0;
    const w = new Worker({
      queue,
      concurrency: 1,
      pollMs: 10,
      log: { info: () => undefined, warn: () => undefined, error: () => undefined },
      portsFor: async (_request, checkpoints, signal) => ({ checkpoints, signal }) as unknown as RequestPorts,
      handle: async () => {
        most = Math.max(most, ++running);
        await new Promise((r) => setTimeout(r, 30));
        running--;
        return { kind: 'answered', what: 'help' };
      },
    });
    w.start();
    for (let i = 0; i < 200 && queue.counts().done !== 10; i++) await new Promise((r) => setTimeout(r, 10));
    await w.stop();
    expect(queue.counts()).toEqual({ done: 10 });
    expect(most).toBe(3);
  });

  it('starts a notified task once deliveries pause for 20 ms, and never later than 250 ms into a burst', async () => {
    vi.useFakeTimers();
    try {
      let started = 0;
      const w = new Worker({
        queue,
        concurrency: 2,
        pollMs: 60_000,
        log: { info: () => undefined, warn: () => undefined, error: () => undefined },
        portsFor: async (_request, checkpoints, signal) => ({ checkpoints, signal }) as unknown as RequestPorts,
        handle: async () => {
          started++;
          return { kind: 'answered', what: 'help' };
        },
      });
      // A burst: a delivery every 10 ms. Nothing starts while it lasts...
      queue.accept(comment('b1', '/code4py'));
      for (let t = 0; t < 200; t += 10) {
        w.notify();
        await vi.advanceTimersByTimeAsync(10);
      }
      expect(started).toBe(0);
      // ...until 250 ms after the first notice at the latest.
      for (let t = 200; t < 300; t += 10) {
        w.notify();
        await vi.advanceTimersByTimeAsync(10);
      }
      expect(started).toBe(1);
      // After a burst, 20 ms of quiet is enough.
      queue.accept({ ...comment('b2', '/code4py'), issueNumber: 4 });
      w.notify();
      await vi.advanceTimersByTimeAsync(15);
      expect(started).toBe(1);
      await vi.advanceTimersByTimeAsync(10);
      expect(started).toBe(2);
      await w.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});
