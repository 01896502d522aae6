import type { RepoConfig } from '../config/repo-config.js';
import type { GitHubApi } from '../github/api.js';
import type { Analysis, FailureFeedback, RepoFile, ReviewFeedback, Solution, SolutionFile, TaskText, TokenLedger } from '../llm/index.js';
import { validateWorkspace } from '../validate/pipeline.js';
import type { Report } from '../validate/report.js';
import { decodeText, writeWorkspace, type InputFile } from '../validate/workspace.js';
import { applyModelPatch } from './generate/apply-patch.js';
import { applyPathPolicy } from './generate/path-policy.js';
import type { TaskPorts } from './run-task.js';

export interface Attempt {
  readonly number: number;
  readonly solution: Solution;
  readonly accepted: readonly SolutionFile[];
  readonly rejected: ReadonlyArray<{ path: string; reason: string }>;
  readonly report: Report;
}

export interface AttemptsInput {
  readonly task: TaskText;
  readonly analysis: Analysis;
  readonly context: readonly RepoFile[];
  /** For a refinement: the generated files as they are on the branch, and the reviewers' words. */
  readonly refinement?: { current: readonly RepoFile[]; feedback: readonly ReviewFeedback[] };
  /** The repository at the commit the new one will build on. */
  readonly repoFiles: ReadonlyMap<string, Buffer>;
  /** Symbolic links and submodules of the repository: never written through. */
  readonly blocked: ReadonlySet<string>;
  readonly config: RepoConfig;
  readonly ports: TaskPorts;
  readonly usage: TokenLedger;
  readonly model: string;
  readonly onAttempt: (n: number) => Promise<void>;
}

/**
 * Generation and repair: ask for a solution, hold it to the path policy, validate it in the sandbox over
 * the repository's files, and on failure ask again with the failing tests and findings, up to
 * `max_attempts`. Returns every attempt; the last one passed, or none did.
 */
export async function generateAndValidate(input: AttemptsInput): Promise<Attempt[]> {
  const { config, ports } = input;
  const attempts: Attempt[] = [];
  let feedback: FailureFeedback | undefined;
  for (let n = 1; n <= config.max_attempts; n++) {
    await input.onAttempt(n);
    const previous = attempts.at(-1);
    const solution = await ports.model.solve(
      {
        task: input.task,
        analysis: input.analysis,
        context: input.context,
        ...(input.refinement ? { refinement: input.refinement } : {}),
        ...(previous && feedback ? { repair: { previous: previous.accepted, failures: feedback } } : {}),
      },
      input.usage,
      { model: input.model, ...(ports.signal ? { signal: ports.signal } : {}) },
    );
    const checked = applyPathPolicy(solution.files, config.paths, input.blocked);
    const policy = applyPatches(checked.accepted, checked.rejected, input.repoFiles);
    const files = materialise(input.repoFiles, policy.accepted);
    const workspace = await writeWorkspace(files.all);
    let report: Report;
    try {
      report = await validateWorkspace(workspace, { config, sandbox: ports.sandbox, linter: ports.linter, ...(ports.signal ? { signal: ports.signal } : {}) });
    } finally {
      await workspace.dispose();
    }
    // A cancelled task stops here: its last validation was cut short and proves nothing.
    ports.signal?.throwIfAborted();
    attempts.push({ number: n, solution, accepted: policy.accepted, rejected: policy.rejected, report });
    if (report.passed && policy.accepted.length > 0) break;
    feedback = feedbackFrom(report, policy.rejected);
  }
  return attempts;
}

/**
 * One commit with one tree of inline contents on `parent`, then the branch created or moved forward
 * (never forced, so a commit someone else pushed is never lost). Checkpointed: a resumed task reuses both.
 */
export async function pushCommit(
  github: GitHubApi,
  change: { branch: string; parent: string; exists: boolean; files: readonly InputFile[]; message: string },
  checkpoints: TaskPorts['checkpoints'],
): Promise<string> {
  const saved = checkpoints.get();
  let commit = typeof saved.commitSha === 'string' ? saved.commitSha : null;
  if (!commit) {
    const tree = await github.createTree(await github.commitTree(change.parent), change.files.map((f) => ({ path: f.path, content: f.content.toString('utf8') })));
    commit = await github.createCommit(change.message, tree, [change.parent]);
    checkpoints.set('commitSha', commit);
  }
  if (!saved.branchMoved) {
    if (change.exists) await github.updateBranch(change.branch, commit);
    else await github.createBranch(change.branch, commit);
    checkpoints.set('branchMoved', true);
  }
  return commit;
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

export function feedbackFrom(report: Report, rejected: ReadonlyArray<{ path: string; reason: string }>): FailureFeedback {
  return {
    failingTests: report.tests.cases.filter((c) => c.outcome === 'failed' || c.outcome === 'error').map((c) => ({ id: c.id, outcome: c.outcome, message: c.message, details: c.details })),
    findings: report.stages
      .filter((s) => s.name !== 'tests' && s.name !== 'coverage')
      .flatMap((s) => s.findings)
      .filter((f) => f.severity !== 'info')
      .slice(0, 40)
      .map((f) => ({ path: f.path, line: f.line, rule: f.rule, message: f.message, severity: f.severity })),
    summaries: report.stages.filter((s) => s.status === 'failed' || s.status === 'error').map((s) => `${s.name}: ${s.summary}`),
    rejectedPaths: rejected,
  };
}


/** How much of a file's current content a failed patch's feedback carries back to the model. */
const MAX_CONTENT_IN_FEEDBACK = 20_000;

/**
 * Turns patch entries into whole files by applying them to the files as they are. A patch that does not
 * apply writes nothing: the file is listed as not written, and the next attempt is told why, with the
 * file's current content — the corrective round.
 */
function applyPatches(
  accepted: readonly SolutionFile[],
  rejected: ReadonlyArray<{ path: string; reason: string }>,
  repoFiles: ReadonlyMap<string, Buffer>,
): { accepted: SolutionFile[]; rejected: Array<{ path: string; reason: string }> } {
  const result = { accepted: [] as SolutionFile[], rejected: [...rejected] };
  for (const file of accepted) {
    if (file.content !== null || file.patch === null) {
      result.accepted.push(file);
      continue;
    }
    const existing = repoFiles.get(file.path);
    const current = existing === undefined ? null : decodeText(existing);
    if (existing !== undefined && current === null) {
      result.rejected.push({ path: file.path, reason: 'the file is not UTF-8 text, so it cannot be patched' });
      continue;
    }
    const applied = applyModelPatch(file.path, current, file.patch);
    if (applied.ok) result.accepted.push({ ...file, content: applied.content, patch: null });
    else {
      const shown = current === null ? '' : `\n\n${current.length > MAX_CONTENT_IN_FEEDBACK ? `${current.slice(0, MAX_CONTENT_IN_FEEDBACK)}\n… (cut)` : current}`;
      result.rejected.push({ path: file.path, reason: `${applied.reason}${shown}` });
    }
  }
  return result;
}
