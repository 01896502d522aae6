import { randomUUID } from 'node:crypto';
import { errorMessage } from '../errors.js';
import type { GitHubApi } from '../github/api.js';
import type { TaskRequest } from '../webhooks/requests.js';
import { handleRequest, type HandledOutcome, type RequestPorts } from './handle-request.js';

/** The queue as the worker sees it (the embedded SQLite store implements it). */
export interface WorkQueue {
  /** The oldest task; with `onlyControl`, only a control task (cancel, help), which may run beyond the concurrency. */
  claim(workerId: string, options?: { onlyControl?: boolean }): { id: string; request: TaskRequest } | null;
  /** `cancel`: drops the issue's queued task and asks its running one to stop. */
  cancelIssue(request: TaskRequest): { dropped: number; stopping: number };
  isCancelRequested(taskId: string): boolean;
  heartbeat(taskId: string, workerId: string): void;
  complete(taskId: string, workerId: string, outcome: string): void;
  fail(taskId: string, workerId: string, reason: string): void;
  /** Gives a task back to the queue unfinished (shutdown); its checkpoints are kept. */
  release(taskId: string, workerId: string): void;
  /** The issue's task asked questions: its author's next comment is taken as the answer. */
  awaitAnswer(request: TaskRequest): void;
  checkpoints(taskId: string): { get(): Record<string, unknown>; set(key: string, value: unknown): void };
}

export interface WorkerLogger {
  info(meta: object, message: string): void;
  warn(meta: object, message: string): void;
  error(meta: object, message: string): void;
}

export interface WorkerOptions {
  readonly queue: WorkQueue;
  /** Builds the ports of one request: an installation's GitHub, the config loader, the model, the sandbox. */
  readonly portsFor: (request: TaskRequest, checkpoints: RequestPorts['checkpoints'], signal: AbortSignal) => Promise<RequestPorts>;
  readonly concurrency: number;
  readonly log: WorkerLogger;
  readonly pollMs?: number;
  readonly heartbeatMs?: number;
}

/**
 * Takes tasks from the queue, `concurrency` at a time, and runs each to an end the issue can see: a pull
 * request, a question, or a status comment that says what went wrong and that `retry` will try again.
 */
export class Worker {
  private readonly id = `worker-${randomUUID()}`;
  private running = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly aborts = new Set<AbortController>();
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly options: WorkerOptions) {}

  start(): void {
    this.schedule(0);
  }

  /** Called by intake after an enqueue, so an idle worker starts at once instead of at its next poll. */
  wake(): void {
    if (!this.stopped) this.schedule(0);
  }

  /** Stops taking tasks; running ones are aborted and left to be taken up again at the next start. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    for (const abort of this.aborts) abort.abort(new Error('the bot is shutting down'));
    await Promise.allSettled([...this.active]);
  }

  /** Resolves when no task is running or waiting (for tests and graceful shutdown). */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.allSettled([...this.active]);
  }

  private schedule(ms: number): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fill(), ms);
    this.timer.unref();
  }

  private fill(): void {
    while (!this.stopped) {
      // Control tasks (cancel, help) never wait for a free slot: a cancel must reach a busy worker.
      const task = this.options.queue.claim(this.id, { onlyControl: this.running >= this.options.concurrency });
      if (!task) break;
      this.running++;
      const run = this.run(task.id, task.request).finally(() => {
        this.running--;
        this.active.delete(run);
        this.wake();
      });
      this.active.add(run);
    }
    if (!this.stopped) this.schedule(this.options.pollMs ?? 1000);
  }

  private async run(taskId: string, request: TaskRequest): Promise<void> {
    const { queue, log } = this.options;
    const meta = { taskId, deliveryId: request.deliveryId, repository: `${request.owner}/${request.repo}`, issue: request.issueNumber };
    const abort = new AbortController();
    this.aborts.add(abort);
    let beats = 0;
    const beat = setInterval(() => {
      if (queue.isCancelRequested(taskId)) abort.abort(new TaskCancelled());
      if (++beats % 10 === 0) queue.heartbeat(taskId, this.id);
    }, (this.options.heartbeatMs ?? 10_000) / 10);
    const checkpoints = queue.checkpoints(taskId);
    let github: GitHubApi | undefined;
    try {
      const ports = { ...(await this.options.portsFor(request, checkpoints, abort.signal)), cancelIssue: () => queue.cancelIssue(request) };
      github = ports.github;
      log.info(meta, 'task started');
      const outcome: HandledOutcome = await handleRequest(taskId, request, ports);
      queue.complete(taskId, this.id, outcome.kind);
      // Still waiting: after the questions, and after a comment that was no answer.
      if (outcome.kind === 'clarification' || (outcome.kind === 'ignored' && request.trigger.kind === 'answer')) queue.awaitAnswer(request);
      log.info({ ...meta, outcome: outcome.kind }, 'task finished');
    } catch (error) {
      const reason = errorMessage(error);
      if (abort.signal.reason instanceof TaskCancelled) {
        log.info(meta, 'task cancelled');
        queue.complete(taskId, this.id, 'cancelled');
        await this.report(github, request, checkpoints.get(), (command) => `🛑 Code4Py stopped: the task was cancelled with \`${command} cancel\`. Comment \`${command} retry\` to start again.`).catch(() => undefined);
        return;
      }
      if (abort.signal.aborted) {
        // Shutting down: the task goes back to the queue with its checkpoints, to be finished at the next start.
        log.warn(meta, 'task interrupted by shutdown; given back to the queue');
        queue.release(taskId, this.id);
        return;
      }
      log.error({ ...meta, error: reason }, 'task failed');
      queue.fail(taskId, this.id, reason);
      await this.report(github, request, checkpoints.get(), (command) => `❌ Code4Py stopped: ${reason}\n\nWhen that is fixed, comment \`${command} retry\` to try again.`).catch((e: unknown) =>
        log.error({ ...meta, error: errorMessage(e) }, 'could not report the failure on the issue'),
      );
    } finally {
      clearInterval(beat);
      this.aborts.delete(abort);
    }
  }

  /** Ends the task's status comment (or writes one) with the message, in the repository's command word. */
  private async report(github: GitHubApi | undefined, request: TaskRequest, saved: Record<string, unknown>, message: (command: string) => string): Promise<void> {
    if (!github) return;
    const text = message(typeof saved.command === 'string' ? saved.command : '/code4py');
    if (typeof saved.statusCommentId === 'number') await github.updateComment(saved.statusCommentId, text);
    else await github.createComment(request.issueNumber, text);
  }
}

/** The abort reason of a task stopped by `cancel`. */
class TaskCancelled extends Error {
  constructor() {
    super('the task was cancelled');
  }
}
