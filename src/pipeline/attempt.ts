import type { RepoConfig } from '../config/repo-config.js';
import type { Analysis, RepoFile, ReviewFeedback, Solution, SolutionFile, TaskText, TokenLedger } from '../llm/index.js';
import type { BaseTree } from '../validate/change/baseline.js';
import type { MutationReport, Report } from '../validate/report.js';
import { validateChange } from '../validate/change/validate-change.js';
import type { InputFile } from '../validate/workspace.js';
import { formatGenerated } from './generate/format.js';
import type { SolvePorts } from './ports.js';

export interface Attempt {
  readonly number: number;
  readonly solution: Solution;
  readonly accepted: readonly SolutionFile[];
  readonly rejected: ReadonlyArray<{ path: string; reason: string }>;
  readonly report: Report;
  /** Milliseconds waiting for the model's answer (corrective rounds, retries and test-strengthening rounds included). */
  readonly modelMs: number;
  /** Milliseconds validating in the sandbox (test-strengthening rounds included). */
  readonly validationMs: number;
  /**
   * Set when a test-strengthening round's tests were kept (they passed and killed more mutants): the
   * attempt's mutation report before the first round. The attempt keeps its number: it is the same
   * attempt, with stronger tests.
   */
  readonly strengthened?: { readonly before: MutationReport };
}

/** How a pipeline validates: the ports' sandbox, Ruff, store of baselines, environment and limits (each optional one undefined when not given). */
export function validationOptions(config: RepoConfig, ports: Omit<SolvePorts, 'model'>) {
  const { sandbox, linter, signal, baselines, maxima, environment } = ports;
  return { config, sandbox, linter, signal, baselines, maxima, environment };
}

/**
 * What every round of generation shares once its files are through the path policy: the files as Ruff
 * would leave them (written over `kept`, files an earlier round had accepted and formatted, where a path is
 * in both), over the repository's files, validated in the sandbox against the base, and timed.
 */
export async function validateAttempt(
  input: AttemptsInput,
  attempt: Pick<Attempt, 'number' | 'solution' | 'rejected' | 'modelMs'>,
  files: readonly SolutionFile[],
  kept: readonly SolutionFile[] = [],
): Promise<Attempt> {
  const { config, ports } = input;
  const byPath = new Map(kept.map((f) => [f.path, f]));
  for (const file of await formatGenerated(files, input.repoFiles, config, ports.linter)) byPath.set(file.path, file);
  const accepted = [...byPath.values()];
  const validating = performance.now();
  const report = await validateChange({ base: input.base, head: materialise(input.repoFiles, accepted).all }, { ...validationOptions(config, ports), solutionRequirements: attempt.solution.dependencies });
  // A cancelled task stops here: its last validation was cut short and proves nothing.
  ports.signal?.throwIfAborted();
  return { ...attempt, accepted, report, validationMs: performance.now() - validating };
}

/** The repository's files with the accepted ones written over them; `changed` holds only the new contents. */
export function materialise(repo: ReadonlyMap<string, Buffer>, accepted: readonly SolutionFile[]): { all: InputFile[]; changed: InputFile[] } {
  const merged = new Map(repo);
  const changed: InputFile[] = [];
  for (const file of accepted) {
    if (file.content === null) continue;
    const content = Buffer.from(file.content);
    merged.set(file.path, content);
    changed.push({ path: file.path, content });
  }
  return { all: [...merged].map(([path, content]) => ({ path, content })), changed };
}

/** An attempt passes when its validation passed and it wrote at least one file. */
export function attemptPassed(attempt: Pick<Attempt, 'report' | 'accepted'>): boolean {
  return attempt.report.passed && attempt.accepted.length > 0;
}

/** Why an attempt did not pass, one item each, for people: no file written, then each failed stage. */
export function attemptProblems(attempt: Pick<Attempt, 'report' | 'accepted'>): string[] {
  return [...(attempt.accepted.length === 0 ? ['no file within the allowed paths'] : []), ...failedStages(attempt.report)];
}

/** The stages that failed or could not run, as `name: summary`. */
export function failedStages(report: Report): string[] {
  return report.stages.filter((s) => s.status === 'failed' || s.status === 'error').map((s) => `${s.name}: ${s.summary}`);
}

export interface AttemptsInput {
  readonly task: TaskText;
  readonly analysis: Analysis;
  readonly context: readonly RepoFile[];
  /** For a refinement: the generated files as they are on the branch, and the reviewers' words. */
  readonly refinement?: { current: readonly RepoFile[]; feedback: readonly ReviewFeedback[] };
  /** The repository at the commit the new one will build on. */
  readonly repoFiles: ReadonlyMap<string, Buffer>;
  /** What the change is validated against: the pull request's base commit. */
  readonly base: BaseTree;
  /** Symbolic links and submodules of the repository: never written through. */
  readonly blocked: ReadonlySet<string>;
  readonly config: RepoConfig;
  readonly ports: SolvePorts;
  readonly usage: TokenLedger;
  readonly model: string;
  readonly onAttempt: (n: number) => Promise<void>;
  /** Each attempt once it is validated (the last one included). */
  readonly onValidated?: (attempt: Attempt) => Promise<void> | void;
  /** The passing attempt after its test-strengthening rounds (stronger tests when `strengthened` is set), which takes its place. */
  readonly onStrengthened?: (attempt: Attempt) => Promise<void> | void;
}
