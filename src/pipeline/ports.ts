import type { GitHubApi } from '../github/api.js';
import type { PriceTable } from '../eval/prices.js';
import type { ModelClient } from '../llm/index.js';
import type { ReadySandbox } from '../sandbox/select.js';
import type { BaselineCache, BaseTree } from '../validate/change/baseline.js';
import type { OperatorLimits } from '../validate/limits.js';
import type { EnvironmentPort, Linter } from '../validate/pipeline.js';
import type { InputFile } from '../validate/workspace.js';

// The pipeline's ports and the repository it works on: what solve.ts, attempts.ts, run-task.ts and the
// publishers share, in a module of their own so that none of them imports another for a type.

/** What the pipeline's core needs from outside: the model, the sandbox and the linter. No GitHub. */
export interface SolvePorts {
  readonly model: ModelClient;
  readonly sandbox: ReadySandbox;
  readonly linter: Linter;
  /** Cancels the model call and the sandbox run under way; the pipeline then throws the signal's reason. */
  readonly signal?: AbortSignal;
  /** Where the base commit's results are kept between tasks (the store); by default for this process only. */
  readonly baselines?: BaselineCache;
  /** The operator's maxima for a repository's limits. */
  readonly maxima?: OperatorLimits;
  /** The environment stage (dependencies installed); without it, the sandbox's own Python. */
  readonly environment?: EnvironmentPort;
}

/** The repository the work builds on, read into memory. */
export interface RepoSource {
  readonly files: readonly InputFile[];
  /** The commit the files are of, when known. */
  readonly sha?: string;
  /** What the change is validated against, when not these files (a refinement builds on the branch but is judged against the base). */
  readonly base?: BaseTree;
  /** Symbolic links and submodules: never written onto or through. */
  readonly blocked: ReadonlySet<string>;
}

/** What a worker hands the pipeline: the task, and ports to everything outside it. */
export interface TaskPorts extends SolvePorts {
  readonly github: GitHubApi;
  /** Durable per-task checkpoints, so a resumed task skips what it already did. */
  readonly checkpoints: { get(): Record<string, unknown>; set(key: string, value: unknown): void };
  readonly defaultModel: string;
  readonly statusIntervalMs?: number;
  /** Model prices for the cost in the pull request (default: the built-in table); an unknown model shows tokens. */
  readonly prices?: PriceTable;
}

/** A task's durable checkpoints. */
export type Checkpoints = TaskPorts['checkpoints'];
