import type { Finding, TestCase } from '../validate/report.js';
import type { TokenLedger } from './budget.js';
import type { EmbedOptions } from './embeddings.js';
import type { Analysis, Solution, SolutionFile } from './schemas.js';

/** An issue comment that belongs to the task (later comments, answers to clarifying questions). */
export interface TaskComment {
  author: string;
  body: string;
}

/** The task as users wrote it. Every text here is untrusted: it is cleaned and fenced before it is sent. */
export interface TaskText {
  /** Issue number, for the model's orientation only. */
  number?: number;
  title: string;
  body: string;
  comments: readonly TaskComment[];
  /** The text after `/code4py generate`, if any. */
  instructions?: string;
}

export interface AnalysisInput {
  task: TaskText;
}

/** A file as it is on the base branch (or in the pull request, for refinements). */
export interface RepoFile {
  path: string;
  content: string;
}

/** A file the path policy refused, so the next attempt can avoid it. */
export interface RejectedPath {
  path: string;
  reason: string;
}

/** Why the previous attempt failed validation, as plain data taken from the validation report. */
export interface FailureFeedback {
  /** Failing and erroring tests: id, assertion text, a short traceback. */
  failingTests: readonly Pick<TestCase, 'id' | 'outcome' | 'message' | 'details'>[];
  /** Lint, security, syntax and dependency findings worth fixing. */
  findings: readonly Pick<Finding, 'path' | 'line' | 'rule' | 'message' | 'severity'>[];
  /** One line per stage that failed, e.g. `tests: 2 failed, 3 passed`. */
  summaries: readonly string[];
  rejectedPaths?: readonly RejectedPath[];
}

/** A reviewer's words, verbatim, with the place a line comment points at. */
export interface ReviewFeedback {
  author?: string;
  body: string;
  path?: string;
  line?: number;
}

export interface SolutionInput {
  task: TaskText;
  analysis: Analysis;
  /** Repository files the code should fit with (already chosen and sized by the context stage). */
  context: readonly RepoFile[];
  /** Set for a repair: what the last attempt wrote and why validation failed. */
  repair?: { previous: readonly SolutionFile[]; failures: FailureFeedback };
  /** Set for a refinement: the pull request's generated files as they are now, and the review. */
  refinement?: { current: readonly RepoFile[]; feedback: readonly ReviewFeedback[] };
  /**
   * Set for a test-strengthening round: the solution's files, and the mutants of its code that no test
   * notices, one per line ("no test fails when line 12 `if n < 1:` becomes `if n <= 1:`").
   */
  strengthen?: { current: readonly SolutionFile[]; survivors: string };
}

export interface CallOptions {
  /** Overrides the client's default model (a repository's `model` setting). */
  model?: string;
  /** Cancels the call (`/code4py cancel`, shutdown); the promise rejects with the signal's reason. */
  signal?: AbortSignal;
}

/** What the pipeline asks of a model. Both calls add what they spend to `usage` and respect its budget. */
export interface ModelClient {
  analyse(input: AnalysisInput, usage: TokenLedger, options?: CallOptions): Promise<Analysis>;
  solve(input: SolutionInput, usage: TokenLedger, options?: CallOptions): Promise<Solution>;
  /** One vector per text (`POST /embeddings`), for ranking the repository context; optional, as not every server embeds. */
  embed?(texts: readonly string[], options: EmbedOptions): Promise<number[][]>;
}
