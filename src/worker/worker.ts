import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { GitHubApi } from '../github/api.js';
import { REPOSITORY_TASK, type TaskRequest } from '../webhooks/requests.js';
import { handleRequest, type HandledOutcome, type RequestPorts } from './handle-request.js';

type MaybePromise<T> = T | Promise<T>;

/** A task's durable checkpoints: read once when it starts, written through as it goes. */
export interface Checkpoints {
  get(): Record<string, unknown>;
  set(key: string, value: unknown): void;
  /** Resolves once every `set` so far is stored (a store that writes asynchronously). */
  flush?(): Promise<void>;
}

/**
 * The queue as the worker sees it: the embedded SQLite store (synchronous) or Redis with BullMQ
 * (asynchronous) implement it, so the worker awaits every call.
 */
export interface WorkQueue {
  /**
   * The oldest task whose installation is under its concurrency limit; with `onlyControl`, only a
   * control task (cancel, help), which may run beyond the concurrency.
   */
  claim(workerId: string, options?: { onlyControl?: boolean }): MaybePromise<{ id: string; request: TaskRequest } | null>;
  /** `cancel`: drops the issue's queued task and asks its running one to stop. */
  cancelIssue(request: TaskRequest): MaybePromise<{ dropped: number; stopping: number }>;
  isCancelRequested(taskId: string): MaybePromise<boolean>;
  heartbeat(taskId: string, workerId: string): MaybePromise<void>;
  complete(taskId: string, workerId: string, outcome: string): MaybePromise<void>;
  fail(taskId: string, workerId: string, reason: string): MaybePromise<void>;
  /** Gives a task back to the queue unfinished (shutdown); its checkpoints are kept. */
  release(taskId: string, workerId: string): MaybePromise<void>;
  /** The issue's task asked questions: its author's next comment is taken as the answer. */
  awaitAnswer(request: TaskRequest): MaybePromise<void>;
  checkpoints(taskId: string): MaybePromise<Checkpoints>;
}

export interface WorkerLogger {
  info(meta: object, message: string): void;
  warn(meta: object, message: string): void;
  error(meta: object, message: string): void;
}

export interface WorkerOptions {
  readonly queue: WorkQueue;
  /** Builds the ports of one request: an installation's GitHub, the config loader, the model, the sandbox. */
  readonly portsFor: (request: TaskRequest, checkpoints: Checkpoints, signal: AbortSignal) => Promise<RequestPorts>;
  readonly concurrency: number;
  readonly log: WorkerLogger;
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
  /** What a claimed request is turned into (handleRequest; process tests put a probe here). */
  readonly handle?: (taskId: string, request: TaskRequest, ports: RequestPorts) => Promise<HandledOutcome>;
  /** Told when a task ends, with how it ended: for metrics. */
  readonly onTaskEnd?: (end: { outcome: string; request: TaskRequest; durationMs: number }) => void;
}

/**
 * Takes tasks from the queue, `concurrency` at a time, and runs each to an end the issue can see: a pull
 * request, a question, or a status comment that says what went wrong and that `retry` will try again.
 */
export class Worker {
  readonly id = `worker-${randomUUID()}`;
  private running = 0;
  private stopped = false;
  private filling = false;
  private deferredSince: number | undefined;
  private refill = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly aborts = new Set<AbortController>();
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    this.schedule(0);
  }

  /** Looks for work at once (a task ended, or a test wants it now). */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  /**
   * Called by intake after an enqueue: the worker starts within QUIET_MS instead of at its next poll, but
   * while deliveries keep arriving (a burst) it lets them be answered first — the work sharing the process
   * would otherwise slow the acknowledgements — for at most MAX_DEFER_MS.
   */
  notify(): void {
    if (this.stopped) return;
    const now = Date.now();
    this.deferredSince ??= now;
    this.schedule(Math.max(0, Math.min(QUIET_MS, this.deferredSince + MAX_DEFER_MS - now)));
  }

  /** How many tasks this worker is running now. */
  get busy(): number {
    return this.running;
  }

  /** Stops taking tasks; running ones are aborted and given back to the queue, to be taken up again. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const abort of this.aborts) abort.abort(new Error('the bot is shutting down'));
    await Promise.allSettled([...this.active]);
  }

  /** Stops taking tasks and waits for the running ones to end by themselves (graceful shutdown). */
  async drain(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.idle();
  }

  /** Resolves when no task is running or waiting (for tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.active.size > 0 || this.filling) {
      await Promise.allSettled([...this.active]);
      if (this.filling) await new Promise((r) => setTimeout(r, 5));
    }
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.fill(), ms);
    this.timer.unref();
  }

  private async fill(): Promise<void> {
    // One fill at a time: a wake during an asynchronous claim asks for another round instead.
    if (this.filling) {
      this.refill = true;
      return;
    }
    this.filling = true;
    this.deferredSince = undefined;
    try {
      do {
        this.refill = false;
        // Control tasks may go beyond the concurrency, a few at a time: a burst of `help` must not start hundreds at once.
        while (!this.stopped && this.running < this.options.concurrency + CONTROL_EXTRA) {
          // Control tasks (cancel, help) never wait for a free slot: a cancel must reach a busy worker.
          const task = await this.options.queue.claim(this.id, { onlyControl: this.running >= this.options.concurrency });
          if (!task) break;
          // A stop while the claim was on its way: the task goes straight back.
          if (this.stopped) {
            await this.options.queue.release(task.id, this.id);
            break;
          }
          this.running++;
          const run = this.run(task.id, task.request).finally(() => {
            this.running--;
            this.active.delete(run);
            this.wake();
          });
          this.active.add(run);
        }
      } while (this.refill && !this.stopped);
    } catch (error) {
      this.options.log.error({ error: errorMessage(error) }, 'could not take a task from the queue; trying again');
    } finally {
      this.filling = false;
    }
    if (!this.stopped) this.schedule(this.options.pollMs ?? 1000);
  }

  private async run(taskId: string, request: TaskRequest): Promise<void> {
    const { queue, log } = this.options;
    const started = Date.now();
    const meta = { taskId, deliveryId: request.deliveryId, repository: `${request.owner}/${request.repo}`, issue: request.issueNumber };
    const abort = new AbortController();
    this.aborts.add(abort);
    let beats = 0;
    const beat = setInterval(() => {
      void (async () => {
        if (await queue.isCancelRequested(taskId)) abort.abort(new TaskCancelled());
        if (++beats % 10 === 0) await queue.heartbeat(taskId, this.id);
      })().catch((error: unknown) => log.warn({ ...meta, error: errorMessage(error) }, 'heartbeat failed'));
    }, (this.options.heartbeatMs ?? 10_000) / 10);
    let outcome = 'failed';
    let github: GitHubApi | undefined;
    let checkpoints: Checkpoints | undefined;
    try {
      checkpoints = await queue.checkpoints(taskId);
      const ports: RequestPorts = { ...(await this.options.portsFor(request, checkpoints, abort.signal)), cancelIssue: () => queue.cancelIssue(request) };
      github = ports.github;
      log.info(meta, 'task started');
      const handled: HandledOutcome = await (this.options.handle ?? handleRequest)(taskId, request, ports);
      outcome = handled.kind;
      await checkpoints.flush?.();
      await queue.complete(taskId, this.id, handled.kind);
      // Still waiting: after the questions, and after a comment that was no answer.
      if (handled.kind === 'clarification' || (handled.kind === 'ignored' && request.trigger.kind === 'answer')) await queue.awaitAnswer(request);
      log.info({ ...meta, outcome: handled.kind }, 'task finished');
    } catch (error) {
      const reason = errorMessage(error);
      const saved = checkpoints?.get() ?? {};
      await checkpoints?.flush?.().catch(() => undefined);
      if (abort.signal.reason instanceof TaskCancelled) {
        outcome = 'cancelled';
        log.info(meta, 'task cancelled');
        await queue.complete(taskId, this.id, 'cancelled');
        await this.report(github, request, saved, (command) => `🛑 Code4Py stopped: the task was cancelled with \`${command} cancel\`. Comment \`${command} retry\` to start again.`).catch(() => undefined);
        return;
      }
      if (abort.signal.aborted) {
        // Shutting down: the task goes back to the queue with its checkpoints, to be finished at the next start.
        outcome = 'released';
        log.warn(meta, 'task interrupted by shutdown; given back to the queue');
        await queue.release(taskId, this.id);
        return;
      }
      log.error({ ...meta, error: reason }, 'task failed');
      await queue.fail(taskId, this.id, reason);
      await this.report(github, request, saved, (command) => `❌ Code4Py stopped: ${reason}\n\nWhen that is fixed, comment \`${command} retry\` to try again.`).catch((e: unknown) =>
        log.error({ ...meta, error: errorMessage(e) }, 'could not report the failure on the issue'),
      );
    } finally {
      clearInterval(beat);
      this.aborts.delete(abort);
      this.options.onTaskEnd?.({ outcome, request, durationMs: Date.now() - started });
    }
  }

  /** Ends the task's status comment (or writes one) with the message, in the repository's command word. */
  private async report(github: GitHubApi | undefined, request: TaskRequest, saved: Record<string, unknown>, message: (command: string) => string): Promise<void> {
    // A task about the repository itself (its label) has no issue to say it on: the log says it.
    if (!github || request.issueNumber === REPOSITORY_TASK) return;
    const text = message(typeof saved.command === 'string' ? saved.command : '/code4py');
    if (typeof saved.statusCommentId === 'number') await github.updateComment(saved.statusCommentId, text);
    else await github.createComment(request.issueNumber, text);
  }
}

/** How long intake's notices wait for a quiet moment, and how long at most. */
const QUIET_MS = 20;
const MAX_DEFER_MS = 250;
/** Control tasks (cancel, help) that may run beyond the concurrency. */
const CONTROL_EXTRA = 2;

/** The abort reason of a task stopped by `cancel`. */
class TaskCancelled extends Error {
  constructor() {
    super('the task was cancelled');
  }
}
