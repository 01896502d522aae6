import type { Probot } from 'probot';
import { createApp, type Intake } from './app.js';
import { CONFIG_PATH } from './config/repo-config.js';
import { OctokitLabels } from './github/labels.js';
import { OctokitGitHub } from './github/octokit-github.js';
import type { ModelClient } from './llm/index.js';
import type { Metrics } from './ops/metrics.js';
import type { ReadySandbox } from './sandbox/select.js';
import { intakeResultKind } from './store/issue-keys.js';
import { withDailyBudget, type TokenBudgetStore } from './store/token-budget.js';
import type { PriceTable } from './eval/prices.js';
import type { BaselineCache } from './validate/change/baseline.js';
import type { OperatorLimits } from './validate/limits.js';
import type { EnvironmentPort, Linter } from './validate/pipeline.js';
import { installationHandlers } from './webhooks/installation.js';
import type { TaskRequest } from './webhooks/requests.js';
import type { RequestPorts } from './worker/handle-request.js';
import { Worker, type Checkpoints, type WorkQueue } from './worker/worker.js';

export interface BotDeps {
  /** Where deliveries are recorded and queued: the embedded store, or Redis. */
  readonly intake: Intake;
  readonly queue: WorkQueue;
  /** What tasks need; an intake-only process has none of them. */
  readonly model?: ModelClient & { registerSecret?(secret: string | undefined): void };
  readonly defaultModel: string;
  readonly sandbox?: ReadySandbox;
  readonly linter?: Linter;
  readonly concurrency: number;
  /** `all` (default): webhooks and the worker; `intake`: webhooks only; `worker`: the worker only. */
  readonly role?: 'all' | 'intake' | 'worker';
  readonly metrics?: Metrics;
  /** Each installation's model tokens per UTC day; over it the bot says so instead of calling the model. */
  readonly budget?: { readonly store: TokenBudgetStore; readonly dailyTokens?: number };
  readonly statusIntervalMs?: number;
  readonly pollMs?: number;
  /** Where base commits' validation results are kept (the store). */
  readonly baselines?: BaselineCache;
  /** The operator's maxima for the limits a repository may ask for. */
  readonly maxima?: OperatorLimits;
  /** The environment stage: the project's dependencies installed before its tests. */
  readonly environment?: EnvironmentPort;
  /** Model prices for the cost shown in pull requests (CODE4PY_PRICES over the built-in table). */
  readonly prices?: PriceTable;
}

export interface Bot {
  /** For Probot's `run` (or a test's Probot): webhooks in, the worker started. */
  appFn: (app: Probot) => void;
  /** Starts the worker on a Probot instance that serves no webhooks (the `worker` role). */
  startWorker: (app: Probot) => Worker;
  worker: () => Worker;
  /** Stops at once: running tasks are given back to the queue. */
  stop: () => Promise<void>;
  /** Graceful: takes no new task, lets running ones finish for up to `graceMs`, then gives the rest back. */
  drain: (graceMs: number) => Promise<void>;
}

/**
 * The bot: the Probot app (webhooks → queue) and the worker that drains the queue. In the default role
 * both share one process; in Redis mode intake and workers can be separate processes on separate machines.
 */
export function createBot(given: BotDeps): Bot {
  const role = given.role ?? 'all';
  // Measured once here, not per task: the sandbox and the linter are shared by every task.
  const { metrics } = given;
  const deps: BotDeps = {
    ...given,
    ...(metrics && given.sandbox ? { sandbox: { ...given.sandbox, sandbox: metrics.sandbox(given.sandbox.sandbox) } } : {}),
    ...(metrics && given.linter ? { linter: metrics.linter(given.linter) } : {}),
  };
  let worker: Worker | undefined;
  const intake: Intake = {
    async accept(request) {
      const result = await deps.intake.accept(request);
      deps.metrics?.intake.inc({ trigger: request.trigger.kind, result: intakeResultKind(result) });
      if (result.queued) worker?.notify();
      return result;
    },
  };
  const startWorker = (app: Probot): Worker => {
    const { model, sandbox, linter } = deps;
    if (!model || !sandbox || !linter) throw new Error('a worker needs the model client, the sandbox and the linter');
    const taskDeps = { ...deps, model, sandbox, linter };
    worker = new Worker({
      queue: deps.queue,
      concurrency: deps.concurrency,
      log: app.log,
      ...(deps.pollMs ? { pollMs: deps.pollMs } : {}),
      portsFor: (request, checkpoints, signal) => portsFor(app, taskDeps, request, checkpoints, signal),
      ...(deps.metrics
        ? {
            onTaskEnd: ({ outcome, durationMs }) => {
              deps.metrics!.tasksFinished.inc({ outcome });
              deps.metrics!.stageSeconds.observe({ stage: 'task' }, durationMs / 1000);
            },
          }
        : {}),
    });
    worker.start();
    return worker;
  };
  const appFn = (app: Probot): void => {
    if (deps.metrics) app.onAny((context) => deps.metrics!.deliveries.inc({ event: context.name }));
    if (role !== 'worker') {
      createApp(intake)(app);
      installationHandlers(intake)(app);
    }
    if (role !== 'intake') startWorker(app);
  };
  return {
    appFn,
    startWorker,
    // In Probot's setup mode the app is never loaded, so there may be no worker to stop.
    stop: async () => worker?.stop(),
    drain: async (graceMs) => {
      if (!worker) return;
      const w = worker;
      const timer = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), graceMs).unref());
      if ((await Promise.race([w.drain().then(() => 'done' as const), timer])) === 'late') await w.stop();
    },
    worker: () => {
      if (!worker) throw new Error('the app has not been loaded yet');
      return worker;
    },
  };
}

type TaskDeps = BotDeps & Required<Pick<BotDeps, 'model' | 'sandbox' | 'linter'>>;

async function portsFor(app: Probot, deps: TaskDeps, request: TaskRequest, checkpoints: Checkpoints, signal: AbortSignal): Promise<RequestPorts> {
  const octokit = await app.auth(request.installationId);
  deps.metrics?.github(octokit, request.installationId);
  // The installation token must never reach a prompt: the model client redacts what it is told about.
  const auth = (await octokit.auth({ type: 'installation' })) as { token?: unknown };
  if (typeof auth.token === 'string') deps.model.registerSecret?.(auth.token);
  const github = new OctokitGitHub(octokit, request.owner, request.repo);
  let model: ModelClient = deps.budget ? withDailyBudget(deps.model, deps.budget.store, request.installationId, deps.budget.dailyTokens) : deps.model;
  if (deps.metrics) model = deps.metrics.model(model);
  return {
    github,
    labels: new OctokitLabels(octokit, request.owner, request.repo),
    model,
    sandbox: deps.sandbox,
    linter: deps.linter,
    checkpoints,
    signal,
    defaultModel: deps.defaultModel,
    statusIntervalMs: deps.statusIntervalMs,
    baselines: deps.baselines,
    maxima: deps.maxima,
    environment: deps.environment,
    prices: deps.prices,
    // Probot's config plugin: reads .github/code4py.yml, following `_extends` and the organisation's .github repository.
    loadConfig: async () => {
      const { config } = await octokit.config.get({ owner: request.owner, repo: request.repo, path: CONFIG_PATH });
      return Object.keys(config).length === 0 ? null : config;
    },
  };
}
