import type { Probot } from 'probot';
import { createApp, type Intake } from './app.js';
import { OctokitGitHub } from './github/octokit-github.js';
import type { ModelClient } from './llm/index.js';
import type { ReadySandbox } from './sandbox/select.js';
import type { Linter } from './validate/pipeline.js';
import type { TaskRequest } from './webhooks/requests.js';
import { CONFIG_PATH } from './config/repo-config.js';
import type { RequestPorts } from './worker/handle-request.js';
import { Worker, type WorkQueue } from './worker/worker.js';

export interface BotDeps {
  /** Where deliveries are recorded and queued (the embedded store); synchronous, local. */
  readonly intake: Intake;
  readonly queue: WorkQueue;
  readonly model: ModelClient & { registerSecret?(secret: string | undefined): void };
  readonly defaultModel: string;
  readonly sandbox: ReadySandbox;
  readonly linter: Linter;
  readonly concurrency: number;
  readonly statusIntervalMs?: number;
  readonly pollMs?: number;
}

/**
 * The bot: the Probot app (webhooks → queue) and the worker that drains the queue, sharing one process.
 * `appFn` goes to Probot's `run` (or a test's Probot instance); `worker` is there once the app is loaded.
 */
export function createBot(deps: BotDeps): { appFn: (app: Probot) => void; worker: () => Worker; stop: () => Promise<void> } {
  let worker: Worker | undefined;
  const intake: Intake = {
    accept(request) {
      const result = deps.intake.accept(request);
      if (result.queued) worker?.wake();
      return result;
    },
  };
  const appFn = (app: Probot): void => {
    createApp(intake)(app);
    worker = new Worker({
      queue: deps.queue,
      concurrency: deps.concurrency,
      log: app.log,
      ...(deps.pollMs ? { pollMs: deps.pollMs } : {}),
      portsFor: (request, checkpoints, signal) => portsFor(app, deps, request, checkpoints, signal),
    });
    worker.start();
  };
  return {
    appFn,
    // In Probot's setup mode the app is never loaded, so there may be no worker to stop.
    stop: async () => worker?.stop(),
    worker: () => {
      if (!worker) throw new Error('the app has not been loaded yet');
      return worker;
    },
  };
}

async function portsFor(app: Probot, deps: BotDeps, request: TaskRequest, checkpoints: RequestPorts['checkpoints'], signal: AbortSignal): Promise<RequestPorts> {
  const octokit = await app.auth(request.installationId);
  // The installation token must never reach a prompt: the model client redacts what it is told about.
  const auth = (await octokit.auth({ type: 'installation' })) as { token?: unknown };
  if (typeof auth.token === 'string') deps.model.registerSecret?.(auth.token);
  const github = new OctokitGitHub(octokit, request.owner, request.repo);
  return {
    github,
    model: deps.model,
    sandbox: deps.sandbox,
    linter: deps.linter,
    checkpoints,
    signal,
    defaultModel: deps.defaultModel,
    ...(deps.statusIntervalMs !== undefined ? { statusIntervalMs: deps.statusIntervalMs } : {}),
    // Probot's config plugin: reads .github/code4py.yml, following `_extends` and the organisation's .github repository.
    loadConfig: async () => {
      const { config } = await octokit.config.get({ owner: request.owner, repo: request.repo, path: CONFIG_PATH });
      return Object.keys(config).length === 0 ? null : config;
    },
  };
}
