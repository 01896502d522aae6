import { z } from 'zod';
import { costUsd } from './prices.js';

/**
 * Why a final answer fails the hidden tests: it does not parse, the function cannot be imported (no
 * `solution.py`, a missing name, an error at import), a test fails, the tests time out, the model gave no
 * usable answer (even after the corrective round), or the task ran out of tokens.
 */
export const FAILURE_CLASSES = ['syntax', 'import', 'test-failure', 'timeout', 'unusable-output', 'token-budget'] as const;
export type FailureClass = (typeof FAILURE_CLASSES)[number];

export const STAGES = ['analysis', 'context', 'generation', 'validation', 'scoring'] as const;
export type EvalStage = (typeof STAGES)[number];

const count = z.number().int().nonnegative();
const ms = z.number().nonnegative();

const TokensSchema = z.object({ prompt: count, completion: count, total: count, calls: count });
export type EvalTokens = z.infer<typeof TokensSchema>;

const StageTimesSchema = z.object({ analysis: ms, context: ms, generation: ms, validation: ms, scoring: ms, total: ms });
export type StageTimes = z.infer<typeof StageTimesSchema>;

/** One problem's outcome: what the cache keeps and the report lists. */
export const ProblemResultSchema = z.object({
  taskId: z.string().min(1),
  /** The first answer passes the hidden tests: pass@1 with one attempt. */
  passedFirst: z.boolean(),
  /** The answer the pipeline ends with (after its repairs) passes the hidden tests: pass@1 with K attempts. */
  passedFinal: z.boolean(),
  /** Answers asked for: 1 when the first passed its own validation, up to K. */
  attempts: count,
  /** The pipeline's own verdict on its last attempt: its tests, syntax and security, as the bot would publish it. */
  validationPassed: z.boolean(),
  /** The analysis asked clarifying questions (the pipeline went ahead with its assumptions). */
  askedQuestions: z.boolean(),
  /** The tests the model wrote, as its last attempt's validation ran them. */
  modelTests: z.object({ cases: count, passed: count, allPassed: z.boolean() }),
  firstFailure: z.enum(FAILURE_CLASSES).nullable(),
  failure: z.enum(FAILURE_CLASSES).nullable(),
  /** The first line of what failed (assertion, error, the model output's problem), when something did. */
  detail: z.string().nullable(),
  /**
   * The mutation score (percent) of the model's tests on its code: of the answer that passed validation
   * before the test-strengthening round, and after it (the same when the round was not kept or not run);
   * null when no mutation score was had.
   */
  mutation: z.object({ before: z.number().min(0).max(100).nullable(), after: z.number().min(0).max(100).nullable(), strengthened: z.boolean() }),
  tokens: TokensSchema,
  timeMs: StageTimesSchema,
});
export type ProblemResult = z.infer<typeof ProblemResultSchema>;

export const REPORT_FORMAT = 'code4py-eval/1';

export const EvalReportSchema = z.object({
  format: z.literal(REPORT_FORMAT),
  model: z.string(),
  /** The server's host, or the transcript a replay answered from. */
  endpoint: z.string(),
  dataset: z.object({ file: z.string(), sha256: z.string(), problems: count }),
  /** K: the most answers per problem (the first and the repairs). */
  attempts: count,
  promptVersion: z.string(),
  /** False when the run was interrupted or stopped by an error: the figures cover `problems` only. */
  complete: z.boolean(),
  startedAt: z.string(),
  /** Wall-clock time of the run (of its last session, when it resumed from the cache). */
  durationMs: ms,
  problems: count,
  passedFirst: count,
  passedFinal: count,
  /** pass@1 as fractions of `problems`: with the first answer, and within K attempts. */
  passAt1: z.object({ first: z.number().min(0).max(1), final: z.number().min(0).max(1) }),
  validationPassed: count,
  askedQuestions: count,
  attemptsUsed: count,
  modelTests: z.object({
    /** Problems whose last attempt had at least one test of the model's. */
    problems: count,
    /** Problems whose model-written tests all passed. */
    allPassed: count,
    cases: count,
    casesPassed: count,
    /** Problems whose model-written tests all passed while the hidden tests failed: bugs the model's tests missed. */
    passedButHiddenFailed: count,
  }),
  /** Mutation scores over the problems that had one: their mean before and after the strengthening round. */
  mutation: z.object({
    problems: count,
    meanBefore: z.number().min(0).max(100).nullable(),
    meanAfter: z.number().min(0).max(100).nullable(),
    /** Problems whose strengthening round was kept (its tests passed and killed more mutants). */
    strengthened: count,
  }),
  tokens: TokensSchema,
  cost: z.object({ usd: z.number().nonnegative(), input: z.number(), output: z.number(), listedAs: z.string() }).nullable(),
  /** Milliseconds per stage, summed over the problems, and the median of a problem's total. */
  timeMs: StageTimesSchema.extend({ medianPerProblem: ms }),
  /** Final answers that fail the hidden tests, by class. */
  failures: z.record(z.enum(FAILURE_CLASSES), count),
  results: z.array(ProblemResultSchema),
});
export type EvalReport = z.infer<typeof EvalReportSchema>;

export interface ReportMeta {
  readonly model: string;
  readonly endpoint: string;
  readonly dataset: EvalReport['dataset'];
  readonly attempts: number;
  readonly promptVersion: string;
  readonly complete: boolean;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly price: { readonly input: number; readonly output: number; readonly listedAs: string } | null;
}

/** The report's figures, computed from the per-problem results (in the dataset's order). */
export function summarise(results: readonly ProblemResult[], meta: ReportMeta): EvalReport {
  const n = results.length;
  const sum = (f: (r: ProblemResult) => number) => results.reduce((total, r) => total + f(r), 0);
  const counted = (f: (r: ProblemResult) => boolean) => results.filter(f).length;
  const tokens = { prompt: sum((r) => r.tokens.prompt), completion: sum((r) => r.tokens.completion), total: sum((r) => r.tokens.total), calls: sum((r) => r.tokens.calls) };
  const failures = Object.fromEntries(FAILURE_CLASSES.map((c) => [c, counted((r) => r.failure === c)])) as Record<FailureClass, number>;
  const passedFirst = counted((r) => r.passedFirst);
  const passedFinal = counted((r) => r.passedFinal);
  return {
    format: REPORT_FORMAT,
    model: meta.model,
    endpoint: meta.endpoint,
    dataset: meta.dataset,
    attempts: meta.attempts,
    promptVersion: meta.promptVersion,
    complete: meta.complete,
    startedAt: meta.startedAt,
    durationMs: Math.round(meta.durationMs),
    problems: n,
    passedFirst,
    passedFinal,
    passAt1: { first: n ? passedFirst / n : 0, final: n ? passedFinal / n : 0 },
    validationPassed: counted((r) => r.validationPassed),
    askedQuestions: counted((r) => r.askedQuestions),
    attemptsUsed: sum((r) => r.attempts),
    modelTests: {
      problems: counted((r) => r.modelTests.cases > 0),
      allPassed: counted((r) => r.modelTests.allPassed),
      cases: sum((r) => r.modelTests.cases),
      casesPassed: sum((r) => r.modelTests.passed),
      passedButHiddenFailed: counted((r) => r.modelTests.allPassed && !r.passedFinal),
    },
    mutation: mutationFigures(results),
    tokens,
    cost: meta.price ? { usd: costUsd(tokens, meta.price), ...meta.price } : null,
    timeMs: {
      analysis: Math.round(sum((r) => r.timeMs.analysis)),
      context: Math.round(sum((r) => r.timeMs.context)),
      generation: Math.round(sum((r) => r.timeMs.generation)),
      validation: Math.round(sum((r) => r.timeMs.validation)),
      scoring: Math.round(sum((r) => r.timeMs.scoring)),
      total: Math.round(sum((r) => r.timeMs.total)),
      medianPerProblem: Math.round(median(results.map((r) => r.timeMs.total))),
    },
    failures,
    results: [...results],
  };
}

function mutationFigures(results: readonly ProblemResult[]): EvalReport['mutation'] {
  const scored = results.filter((r) => r.mutation.before !== null && r.mutation.after !== null);
  const mean = (pick: (r: ProblemResult) => number): number | null => (scored.length ? Math.round((10 * scored.reduce((t, r) => t + pick(r), 0)) / scored.length) / 10 : null);
  return { problems: scored.length, meanBefore: mean((r) => r.mutation.before!), meanAfter: mean((r) => r.mutation.after!), strengthened: results.filter((r) => r.mutation.strengthened).length };
}

function median(values: readonly number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
