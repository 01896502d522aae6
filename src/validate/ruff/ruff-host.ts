import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { RuffResponseSchema, WorkerReplySchema, type RuffRequest, type RuffResponse, type WorkerData, type WorkerRequest } from './ruff-protocol.js';

export interface RuffHostOptions {
  /**
   * The worker script. By default the compiled `ruff-worker.js` beside this file; when that does not exist
   * (running from TypeScript sources, under vitest or tsx) Ruff runs in-process instead. null forces in-process.
   */
  readonly worker?: URL | null;
  /** A request that takes longer stops the worker and fails (in-process runs cannot be interrupted). */
  readonly timeoutMs?: number;
  /**
   * Whether the worker runs a first check of its own as it starts (default true): it compiles much of Ruff
   * (lazily compiled, function by function) before any request arrives. A process that sends one request
   * soon after it starts (`code4py validate`) does better without: its own check compiles only what it uses.
   */
  readonly warmUp?: boolean;
}

/** Thrown (as a rejection) when Ruff's worker dies, times out, or the host is closed under a request. */
export class RuffWorkerError extends Error {
  override readonly name = 'RuffWorkerError';
}

interface Pending {
  readonly resolve: (response: RuffResponse) => void;
  readonly reject: (error: Error) => void;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 120_000;

/**
 * Ruff's WebAssembly build in a worker thread. Compiling it and the first check take about half a
 * second, so start the host early: that time then overlaps the sandbox runs on the main thread.
 */
export class RuffHost {
  readonly mode: 'worker' | 'in-process';
  private worker: Worker | null = null;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private closed = false;
  private engine: Promise<typeof import('./ruff-engine.js')> | null = null;

  private constructor(
    private readonly workerUrl: URL | null,
    private readonly timeoutMs: number,
    private readonly warmUp: boolean,
  ) {
    this.mode = workerUrl ? 'worker' : 'in-process';
    if (workerUrl) this.worker = this.spawn(workerUrl);
    else {
      this.engine = import('./ruff-engine.js');
      // A failed load is reported by lint(); until then it must not count as an unhandled rejection.
      this.engine.catch(() => undefined);
    }
  }

  static start(options: RuffHostOptions = {}): RuffHost {
    const worker = options.worker === undefined ? compiledWorker() : options.worker;
    return new RuffHost(worker, options.timeoutMs ?? DEFAULT_TIMEOUT_MS, options.warmUp ?? true);
  }

  async lint(request: RuffRequest): Promise<RuffResponse> {
    if (this.closed) throw new RuffWorkerError('Ruff was asked to check files after its host was closed');
    if (!this.workerUrl) {
      const engine = await (this.engine ??= import('./ruff-engine.js'));
      // The engine does not parse Ruff's output; the host does, here as for the worker's replies.
      return RuffResponseSchema.parse(engine.runRuff(request));
    }
    // A worker that died on an earlier request is replaced: one bad file must not end the process's linting.
    const worker = (this.worker ??= this.spawn(this.workerUrl));
    const id = this.nextId++;
    return new Promise<RuffResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.worker === worker) this.worker = null;
        this.fail(new RuffWorkerError(`Ruff took longer than ${duration(this.timeoutMs)} and was stopped`));
        void worker.terminate();
      }, this.timeoutMs);
      timer.unref();
      this.pending.set(id, { resolve, reject, timer });
      worker.ref();
      worker.postMessage({ id, request } satisfies WorkerRequest);
    });
  }

  /** Stops the worker; requests still running are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    this.fail(new RuffWorkerError('Ruff was stopped before it finished (its host was closed)'));
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private spawn(url: URL): Worker {
    const worker = new Worker(url, { workerData: { warmUp: this.warmUp } satisfies WorkerData });
    // An idle worker must not keep the process alive; lint() holds a reference while a request runs.
    worker.unref();
    worker.on('message', (message: unknown) => this.settle(message));
    worker.on('error', (error) => this.died(worker, new RuffWorkerError(`Ruff's worker crashed: ${error.message}`, { cause: error })));
    worker.on('messageerror', (error) => this.died(worker, new RuffWorkerError(`Ruff's worker sent an unreadable message: ${error.message}`)));
    worker.on('exit', (code) => this.died(worker, new RuffWorkerError(`Ruff's worker stopped unexpectedly (exit code ${code})`)));
    return worker;
  }

  private settle(message: unknown): void {
    const reply = WorkerReplySchema.safeParse(message);
    if (!reply.success) {
      this.fail(new RuffWorkerError(`Ruff's worker sent a malformed reply: ${reply.error.message}`));
      return;
    }
    const pending = this.pending.get(reply.data.id);
    if (!pending) return;
    this.pending.delete(reply.data.id);
    clearTimeout(pending.timer);
    if (this.pending.size === 0) this.worker?.unref();
    if (reply.data.ok) pending.resolve(reply.data.response);
    else pending.reject(new RuffWorkerError(`Ruff failed: ${reply.data.error}`));
  }

  private died(worker: Worker, error: RuffWorkerError): void {
    // 'error' is followed by 'exit': the first, more telling, message wins; later events find nothing pending.
    if (this.worker === worker) this.worker = null;
    this.fail(error);
  }

  private fail(error: Error): void {
    for (const pending of this.pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(error);
    }
    this.pending.clear();
    this.worker?.unref();
  }
}

function compiledWorker(): URL | null {
  const url = new URL('./ruff-worker.js', import.meta.url);
  return existsSync(fileURLToPath(url)) ? url : null;
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${Math.round(ms / 1000)} s`;
}
