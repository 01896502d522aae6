import type { RepoConfig } from '../config/repo-config.js';
import { ModelOutputError, TokenBudgetExceededError, TokenLedger } from '../llm/index.js';
import type { Attempt } from '../pipeline/attempt.js';
import type { SolvePorts } from '../pipeline/ports.js';
import { solveTask } from '../pipeline/solve.js';
import { problemTask, type Problem } from './humaneval.js';
import type { FailureClass, ProblemResult } from './report.js';
import { scoreAnswer, type Score } from './score.js';

export interface EvalRun {
  readonly problems: readonly Problem[];
  /** The pipeline's settings; `max_attempts` is K. */
  readonly config: RepoConfig;
  readonly model: string;
  /** Problems worked on at once. */
  readonly concurrency: number;
  readonly ports: Omit<SolvePorts, 'signal'>;
  /** Ctrl-C: the problems under way are abandoned (their model calls and sandboxes stopped), the finished ones kept. */
  readonly signal?: AbortSignal;
  /** Results an earlier run of the same setup finished, by task id: not run again. */
  readonly done?: ReadonlyMap<string, ProblemResult>;
  /** Each result as it is known (from `done` too), e.g. to cache it and move a progress bar. */
  readonly onResult?: (result: ProblemResult, fromCache: boolean) => Promise<void> | void;
}

export interface EvalOutcome {
  /** The finished problems, in the data file's order. */
  readonly results: ProblemResult[];
  readonly complete: boolean;
  /** What stopped the run, other than the caller's signal: the model server, the sandbox, a replay miss. */
  readonly error?: unknown;
}

/**
 * Runs every problem through the bot's own pipeline (src/pipeline/solve.ts) with `concurrency` workers, and
 * scores the first and the final answer of each against the problem's hidden tests. An error that is not
 * the model's answer (the server down, a replay miss, no sandbox) stops the run: its figures would say
 * something about the setup, not about the model.
 */
export async function runEval(run: EvalRun): Promise<EvalOutcome> {
  const stop = new AbortController();
  const signal = run.signal ? AbortSignal.any([run.signal, stop.signal]) : stop.signal;
  const finished = new Map<number, ProblemResult>();
  let next = 0;
  let error: unknown;
  const worker = async (): Promise<void> => {
    while (!signal.aborted && next < run.problems.length) {
      const index = next++;
      const problem = run.problems[index]!;
      const cached = run.done?.get(problem.task_id);
      try {
        const result = cached ?? (await evaluateProblem(problem, run, signal));
        finished.set(index, result);
        await run.onResult?.(result, cached !== undefined);
      } catch (failure) {
        if (signal.aborted) return;
        error ??= failure;
        stop.abort(failure);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(run.concurrency, run.problems.length)) }, worker));
  const results = [...finished].sort(([a], [b]) => a - b).map(([, r]) => r);
  return { results, complete: results.length === run.problems.length, ...(error !== undefined ? { error } : {}) };
}

/** One problem: the pipeline with the problem's prompt as the task and no repository, then the hidden tests. */
async function evaluateProblem(problem: Problem, run: Omit<EvalRun, 'problems'>, signal: AbortSignal): Promise<ProblemResult> {
  const { config } = run;
  const ports = { ...run.ports, signal };
  const usage = new TokenLedger(config.max_tokens_per_task);
  const attempts: Attempt[] = [];
  const started = performance.now();
  let understoodAt = started;
  let contextAt = started;
  let askedQuestions = false;
  let modelFailure: { failure: FailureClass; detail: string } | null = null;
  let validationPassed = false;
  try {
    const result = await solveTask(
      {
        task: problemTask(problem),
        config,
        model: run.model,
        usage,
        // The analysis may ask; an eval goes ahead with its assumptions, as `/code4py generate` does.
        mayAsk: false,
        repository: async () => ({ files: [], blocked: new Set<string>() }),
        onProgress: (event) => {
          if (event.stage === 'understood') {
            understoodAt = performance.now();
            askedQuestions = event.analysis.needs_clarification;
          } else if (event.stage === 'context') contextAt = performance.now();
          else if (event.stage === 'validated') attempts.push(event.attempt);
          // The same attempt with stronger tests: it takes the place of the one it started from.
          else if (event.stage === 'strengthened') attempts[attempts.length - 1] = event.attempt;
        },
      },
      ports,
    );
    validationPassed = result.kind === 'attempted' && result.passed;
  } catch (error) {
    if (signal.aborted) throw error;
    if (error instanceof ModelOutputError) modelFailure = { failure: 'unusable-output', detail: error.problems.join('; ') };
    else if (error instanceof TokenBudgetExceededError) modelFailure = { failure: 'token-budget', detail: error.message };
    else throw error;
  }
  const scoringStarted = performance.now();
  const first = attempts[0];
  const last = attempts.at(-1);
  const firstScore: Score | null = first ? await scoreAnswer(problem, first.accepted, config, ports) : null;
  // An answer that could not be had ends the task: the pipeline has nothing to deliver.
  const finalScore: Score | null = modelFailure || !last ? null : last === first ? firstScore : await scoreAnswer(problem, last.accepted, config, ports);
  const scoringMs = performance.now() - scoringStarted;
  const report = last?.report;
  const cases = report ? report.tests.passed + report.tests.failed + report.tests.errors : 0;
  const failureOf = (score: Score | null) => (score ? score.failure : (modelFailure?.failure ?? 'unusable-output'));
  const tokens = usage.snapshot;
  const ended = performance.now();
  return {
    taskId: problem.task_id,
    passedFirst: firstScore?.passed ?? false,
    passedFinal: finalScore?.passed ?? false,
    attempts: attempts.length,
    validationPassed,
    askedQuestions,
    mutation: mutationOf(attempts),
    modelTests: { cases, passed: report?.tests.passed ?? 0, allPassed: cases > 0 && report!.tests.failed === 0 && report!.tests.errors === 0 && !report!.tests.timedOut },
    firstFailure: first ? failureOf(firstScore) : (modelFailure?.failure ?? 'unusable-output'),
    failure: failureOf(finalScore),
    detail: finalScore ? finalScore.detail : (modelFailure?.detail ?? null),
    tokens: { prompt: tokens.prompt, completion: tokens.completion, total: tokens.total, calls: tokens.calls },
    timeMs: {
      analysis: Math.round(understoodAt - started),
      context: Math.round(Math.max(0, contextAt - understoodAt)),
      generation: Math.round(attempts.reduce((sum, a) => sum + a.modelMs, 0)),
      validation: Math.round(attempts.reduce((sum, a) => sum + a.validationMs, 0)),
      scoring: Math.round(scoringMs),
      total: Math.round(ended - started),
    },
  };
}

/** The mutation score of the passing answer before its strengthening rounds, and after them (the same when none was kept). */
function mutationOf(attempts: readonly Attempt[]): ProblemResult['mutation'] {
  const passed = attempts.filter((a) => a.report.passed).at(-1);
  const after = passed?.report.mutation?.score ?? null;
  const before = passed?.strengthened ? passed.strengthened.before.score : after;
  return { before, after, strengthened: passed?.strengthened !== undefined };
}
