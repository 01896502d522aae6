import type { RepoConfig } from '../config/repo-config.js';
import type { Analysis, TaskText, TokenLedger } from '../llm/index.js';
import { renderPullRequestBody } from '../render/pull-request.js';
import type { InputFile } from '../validate/workspace.js';
import { packageInfo } from '../version.js';
import { attemptPassed, materialise, type Attempt } from './attempt.js';
import { generateAndValidate } from './attempts.js';
import type { RepoSource, SolvePorts } from './ports.js';
import { buildContext, type RepoContext } from './context/pick-context.js';

export type SolveProgress =
  | { readonly stage: 'understood'; readonly analysis: Analysis }
  | { readonly stage: 'context'; readonly context: RepoContext }
  | { readonly stage: 'attempt'; readonly number: number; readonly of: number }
  | { readonly stage: 'validated'; readonly attempt: Attempt }
  /** The passing attempt after its test-strengthening rounds, in its place: stronger tests when `strengthened` is set. */
  | { readonly stage: 'strengthened'; readonly attempt: Attempt };

export interface SolveRequest<R extends RepoSource> {
  readonly task: TaskText;
  readonly config: RepoConfig;
  readonly model: string;
  readonly usage: TokenLedger;
  /** Whether the task may stop at the analysis to ask its questions; false goes ahead with the assumptions. */
  readonly mayAsk: boolean;
  /** Called once the task is understood, so a task that stops to ask never reads the repository. */
  readonly repository: () => Promise<R>;
  readonly onProgress?: (event: SolveProgress) => Promise<void> | void;
}

/** Milliseconds per stage: the analysis call, the context, the model's answers, the sandbox's validations. */
export interface SolveTimings {
  readonly analysisMs: number;
  readonly contextMs: number;
  readonly generationMs: number;
  readonly validationMs: number;
}

export interface Clarification {
  readonly kind: 'clarification';
  readonly analysis: Analysis;
  readonly questions: readonly string[];
  readonly timings: SolveTimings;
}

export interface Attempted<R extends RepoSource> {
  readonly kind: 'attempted';
  readonly analysis: Analysis;
  readonly repo: R;
  readonly repoFiles: ReadonlyMap<string, Buffer>;
  readonly context: RepoContext;
  /** Every attempt; the last one passed, or none did. */
  readonly attempts: readonly Attempt[];
  readonly last: Attempt;
  /** The last attempt passed validation and wrote at least one file. */
  readonly passed: boolean;
  /** The last attempt's files that differ from the repository, as they would be committed. */
  readonly changed: readonly InputFile[];
  readonly timings: SolveTimings;
}

export type SolveResult<R extends RepoSource> = Clarification | Attempted<R>;

/**
 * The pipeline every flow shares — the bot on GitHub, `code4py generate` on a checkout, `code4py eval` on a
 * benchmark: understand the task (stopping to ask when it is too vague and `mayAsk`), read the repository,
 * pick its context, then generate, hold to the path policy, validate in the sandbox and repair, up to
 * `max_attempts`. Publishing is the caller's: a pull request, files in a folder, or a score.
 */
export async function solveTask<R extends RepoSource>(request: SolveRequest<R>, ports: SolvePorts): Promise<SolveResult<R>> {
  const { config, usage, model } = request;
  const callOptions = { model, ...(ports.signal ? { signal: ports.signal } : {}) };
  const started = performance.now();
  const analysis = await ports.model.analyse({ task: request.task }, usage, callOptions);
  const analysisMs = performance.now() - started;
  await request.onProgress?.({ stage: 'understood', analysis });
  if (analysis.needs_clarification && request.mayAsk) {
    return { kind: 'clarification', analysis, questions: analysis.questions, timings: { analysisMs, contextMs: 0, generationMs: 0, validationMs: 0 } };
  }

  const contextStarted = performance.now();
  const repo = await request.repository();
  const repoFiles = new Map(repo.files.map((f) => [f.path, f.content]));
  const context = await buildContext(
    {
      files: repo.files,
      task: request.task,
      analysis,
      maxTokens: config.context.max_tokens,
      embeddingsModel: config.context.embeddings_model,
      embedder: ports.model,
      usage,
    },
    ports.sandbox.sandbox,
    ports.signal,
  );
  const contextMs = performance.now() - contextStarted;
  await request.onProgress?.({ stage: 'context', context });

  const attempts = await generateAndValidate({
    task: request.task,
    analysis,
    context: context.files,
    repoFiles,
    base: repo.base ?? { sha: repo.sha ?? null, files: repo.files },
    blocked: repo.blocked,
    config,
    ports,
    usage,
    model,
    onAttempt: async (number) => void (await request.onProgress?.({ stage: 'attempt', number, of: config.max_attempts })),
    onValidated: (attempt) => request.onProgress?.({ stage: 'validated', attempt }),
    onStrengthened: (attempt) => request.onProgress?.({ stage: 'strengthened', attempt }),
  });
  const last = attempts.at(-1)!;
  return {
    kind: 'attempted',
    analysis,
    repo,
    repoFiles,
    context,
    attempts,
    last,
    passed: attemptPassed(last),
    changed: materialise(repoFiles, last.accepted).changed,
    timings: {
      analysisMs,
      contextMs,
      generationMs: attempts.reduce((sum, a) => sum + a.modelMs, 0),
      validationMs: attempts.reduce((sum, a) => sum + a.validationMs, 0),
    },
  };
}

/** The pull request body for a result, the same whoever publishes it (without an issue, no `Closes #n`). */
export function pullRequestBody(
  result: Attempted<RepoSource>,
  options: { issue?: number; model: string; command: string; usage: TokenLedger; checkRunUrl?: string | null; costUsd?: number | null },
): string {
  const { last, analysis } = result;
  return renderPullRequestBody({
    ...(options.issue !== undefined ? { issue: options.issue } : {}),
    summary: last.solution.summary,
    requirements: analysis.requirements,
    assumptions: analysis.assumptions,
    files: result.changed.map((f) => ({ path: f.path, kind: result.repoFiles.has(f.path) ? 'changed' : 'added' })),
    notWritten: last.rejected,
    contextFiles: [...result.context.paths],
    report: last.report,
    attempts: last.number,
    tokens: options.usage.snapshot,
    model: options.model,
    command: options.command,
    package: packageInfo(),
    ...(options.checkRunUrl !== undefined ? { checkRunUrl: options.checkRunUrl } : {}),
    costUsd: options.costUsd ?? null,
  });
}
