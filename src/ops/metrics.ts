import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ModelClient } from '../llm/types.js';
import { wrapModelCalls } from '../llm/wrap.js';
import type { Sandbox } from '../sandbox/types.js';
import type { Linter } from '../validate/pipeline.js';

type MaybePromise<T> = T | Promise<T>;

/**
 * The bot's Prometheus metrics (prom-client), served at `/metrics`. One registry per process; in Redis
 * mode every process serves its own and Prometheus sums them, except `code4py_tasks`, which each process
 * reads from the shared queue (use `max` across processes for it).
 */
export class Metrics {
  readonly registry = new Registry();
  readonly deliveries = new Counter({ name: 'code4py_deliveries_total', help: 'Webhook deliveries received (signature verified), by GitHub event.', labelNames: ['event'], registers: [this.registry] });
  readonly intake = new Counter({
    name: 'code4py_intake_total',
    help: 'Triggers intake took, by kind (label, comment, answer, review, review-comment, rerun) and result (queued, duplicate, busy, ignored).',
    labelNames: ['trigger', 'result'],
    registers: [this.registry],
  });
  readonly tasksFinished = new Counter({ name: 'code4py_tasks_finished_total', help: 'Tasks this process ended, by outcome.', labelNames: ['outcome'], registers: [this.registry] });
  readonly stageSeconds = new Histogram({
    name: 'code4py_stage_duration_seconds',
    help: 'Time spent per stage: analysis, solution and embeddings (model calls), lint (Ruff), sandbox (one sandboxed run), task (a whole task).',
    labelNames: ['stage'],
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
    registers: [this.registry],
  });
  readonly modelTokens = new Counter({ name: 'code4py_model_tokens_total', help: 'Model tokens spent, by kind (prompt, completion).', labelNames: ['kind'], registers: [this.registry] });
  readonly modelCalls = new Counter({ name: 'code4py_model_calls_total', help: 'Model calls, by answer (analysis, solution, embeddings) and result (ok, error).', labelNames: ['call', 'result'], registers: [this.registry] });
  readonly sandboxRuns = new Counter({ name: 'code4py_sandbox_runs_total', help: 'Sandboxed runs, by outcome (exited, failed, timeout, oom, aborted).', labelNames: ['outcome'], registers: [this.registry] });
  readonly githubCalls = new Counter({ name: 'code4py_github_api_calls_total', help: 'GitHub REST API requests, by method and status.', labelNames: ['method', 'status'], registers: [this.registry] });
  readonly githubRateLimit = new Gauge({ name: 'code4py_github_rate_limit_remaining', help: 'Requests left in the current rate-limit window, as the last GitHub answer said, by installation.', labelNames: ['installation'], registers: [this.registry] });

  constructor(taskCounts?: () => MaybePromise<Record<string, number>>) {
    collectDefaultMetrics({ register: this.registry, prefix: 'code4py_' });
    if (taskCounts) {
      new Gauge({
        name: 'code4py_tasks',
        help: 'Tasks in the queue by state (queued/waiting, running/active, done/completed, failed, cancelled, delayed).',
        labelNames: ['state'],
        registers: [this.registry],
        async collect() {
          this.reset();
          for (const [state, n] of Object.entries(await taskCounts())) this.set({ state }, n);
        },
      });
    }
  }

  /** The model client, counting calls, their time and the tokens they spent. */
  model<M extends ModelClient>(model: M): M {
    return wrapModelCalls(model, async (call, usage, run) => {
      const before = usage.snapshot;
      const end = this.stageSeconds.startTimer({ stage: call });
      try {
        const answer = await run();
        this.modelCalls.inc({ call, result: 'ok' });
        return answer;
      } catch (error) {
        this.modelCalls.inc({ call, result: 'error' });
        throw error;
      } finally {
        end();
        const after = usage.snapshot;
        if (after.prompt > before.prompt) this.modelTokens.inc({ kind: 'prompt' }, after.prompt - before.prompt);
        if (after.completion > before.completion) this.modelTokens.inc({ kind: 'completion' }, after.completion - before.completion);
      }
    });
  }

  /** The sandbox, counting runs by how they ended and timing them. */
  sandbox(sandbox: Sandbox): Sandbox {
    return {
      backend: sandbox.backend,
      python: sandbox.python,
      limiter: sandbox.limiter,
      run: async (request) => {
        const end = this.stageSeconds.startTimer({ stage: 'sandbox' });
        try {
          const result = await sandbox.run(request);
          const outcome = result.aborted ? 'aborted' : result.timedOut ? 'timeout' : result.outOfMemory ? 'oom' : result.exitCode === 0 ? 'exited' : 'failed';
          this.sandboxRuns.inc({ outcome });
          return result;
        } catch (error) {
          this.sandboxRuns.inc({ outcome: 'error' });
          throw error;
        } finally {
          end();
        }
      },
    };
  }

  linter(linter: Linter): Linter {
    return {
      lint: (request) => linter.lint(request),
      check: async (files, config) => {
        const end = this.stageSeconds.startTimer({ stage: 'lint' });
        try {
          return await linter.check(files, config);
        } finally {
          end();
        }
      },
    };
  }

  /** Counts an Octokit's requests and records the rate limit GitHub reports (octokit.hook, as plugins do). */
  github(octokit: GitHubHookable, installationId: number): void {
    octokit.hook.after('request', (response, options) => {
      this.githubCalls.inc({ method: options.method, status: String(response.status) });
      const remaining = Number(response.headers['x-ratelimit-remaining']);
      if (Number.isFinite(remaining)) this.githubRateLimit.set({ installation: String(installationId) }, remaining);
    });
    octokit.hook.error('request', (error, options) => {
      this.githubCalls.inc({ method: options.method, status: String((error as { status?: number }).status ?? 'error') });
      throw error;
    });
  }

  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

/** The part of an Octokit the metrics hook into. */
export interface GitHubHookable {
  hook: {
    after(name: 'request', hook: (response: { status: number; headers: Record<string, unknown> }, options: { method: string }) => void): void;
    error(name: 'request', hook: (error: unknown, options: { method: string }) => never): void;
  };
}
