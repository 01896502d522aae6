import type { RepoConfig } from '../config/repo-config.js';
import { estimateCostUsd } from '../eval/prices.js';
import { TokenLedger, type Analysis, type RepoFile, type ReviewFeedback } from '../llm/index.js';
import { refreshPullRequestBody } from '../publish/pull-request-body.js';
import { renderRefineReply } from '../render/comments.js';
import { renderMarkdown } from '../render/markdown.js';
import { renderFilesSection, renderValidationSection } from '../render/pull-request.js';
import { decodeText } from '../validate/workspace.js';
import { packageInfo } from '../version.js';
import { checkRunExternalId, issueOfBranch } from '../webhooks/requests.js';
import { pushCommit } from '../publish/commit.js';
import { materialise } from './attempt.js';
import { generateAndValidate } from './attempts.js';
import { completeCheckRun, senderMayTrigger, startCheckRun } from './check-run.js';
import { buildContext } from './context/pick-context.js';
import type { TaskPorts } from './ports.js';
import { snapshotsOf } from './snapshot.js';

export interface RefineTask {
  readonly taskId: string;
  /** The pull request the feedback was left on. */
  readonly pullNumber: number;
  readonly sender: string;
  /** The reviewers' words, verbatim, with the file and line of a line comment. */
  readonly feedback: readonly ReviewFeedback[];
  readonly config: RepoConfig;
}

export type RefineOutcome =
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'not-ours' }
  | { readonly kind: 'refined'; readonly commit: string; readonly passed: true }
  | { readonly kind: 'failed'; readonly attempts: number };

/**
 * A refinement: the feedback, the code as it is on the branch now (commits people pushed included), a new
 * solution validated like the first, and a new commit on top of the branch head — never forced — with a
 * fresh check run, the pull request's files and validation brought up to date, and a reply that says
 * what was changed for this feedback.
 */
export async function runRefineTask(task: RefineTask, ports: TaskPorts): Promise<RefineOutcome> {
  const { github, checkpoints, config } = { ...ports, config: task.config };
  if (!(await senderMayTrigger(github, task.sender, task.pullNumber, config, checkpoints))) return { kind: 'unauthorized' };
  const pull = await github.getPullRequest(task.pullNumber);
  const issueNumber = issueOfBranch(pull.headRef);
  if (issueNumber === null || pull.state !== 'open') {
    await github.createComment(task.pullNumber, `\`${config.command} refine\` works on the open pull requests Code4Py made (branches \`code4py/issue-<n>\`).`);
    return { kind: 'not-ours' };
  }
  const head = (await github.branchSha(pull.headRef)) ?? pull.headSha;
  // The branch's change is what it adds since it forked from the pull request's base (GitHub's own diff), not since that branch's tip.
  const base = await github.mergeBase(pull.baseRef, head);
  const { head: headSnapshot, base: baseSnapshot } = await snapshotsOf(github, head, base, config.limits);
  const baseFiles = new Map(baseSnapshot.files.map((f) => [f.path, f.content]));
  // "The current code": every text file the branch adds or changes against its base.
  const current: RepoFile[] = headSnapshot.files.flatMap((f) => {
    const before = baseFiles.get(f.path);
    const text = decodeText(f.content);
    return text !== null && (!before || !before.equals(f.content)) ? [{ path: f.path, content: text }] : [];
  });

  const issue = await github.getIssue(issueNumber);
  const analysis: Analysis = { intent: 'other', title: pull.title, module: '', requirements: [], assumptions: [], needs_clarification: false, questions: [] };
  const usage = new TokenLedger(config.max_tokens_per_task);
  const model = config.model ?? ports.defaultModel;
  const repoFiles = new Map(headSnapshot.files.map((f) => [f.path, f.content]));
  const taskText = { number: issue.number, title: issue.title, body: issue.body, comments: [] };
  const context = await buildContext(
    { files: headSnapshot.files, task: taskText, analysis, maxTokens: config.context.max_tokens, embeddingsModel: config.context.embeddings_model, embedder: ports.model, usage },
    ports.sandbox.sandbox,
    ports.signal,
  );
  const attempts = await generateAndValidate({
    task: taskText,
    analysis,
    context: context.files,
    refinement: { current, feedback: task.feedback },
    repoFiles,
    base: { sha: base, files: baseSnapshot.files },
    blocked: new Set([...headSnapshot.symlinks, ...headSnapshot.submodules]),
    config,
    ports,
    usage,
    model,
    onAttempt: async () => undefined,
  });
  const last = attempts.at(-1)!;
  if (!(last.report.passed && last.accepted.length > 0)) {
    await github.createComment(
      task.pullNumber,
      `❌ Code4Py could not make a change that passes validation in ${attempts.length} ${attempts.length === 1 ? 'attempt' : 'attempts'}; the branch is unchanged.\n\n<details><summary>The last validation</summary>\n\n${renderMarkdown(last.report, { maxLength: 20_000 })}\n\n</details>`,
    );
    return { kind: 'failed', attempts: attempts.length };
  }
  // What this commit changes against the branch head: the model may send back files it left as they were.
  const changed = materialise(repoFiles, last.accepted).changed.filter((f) => !repoFiles.get(f.path)?.equals(f.content));
  const commit = await pushCommit(
    github,
    { branch: pull.headRef, parent: head, exists: true, files: changed, message: `Refine: ${firstLine(task.feedback[0]?.body ?? 'review feedback')}\n\nRequested by @${task.sender} on #${task.pullNumber}.` },
    checkpoints,
  );
  const checkRun = await startCheckRun(github, commit, checkRunExternalId(issueNumber, task.taskId), checkpoints);
  await completeCheckRun(github, checkRun, last.report, checkpoints);

  // The description follows the branch: every file it changes against its base, and this commit's validation.
  const onBranch = new Set([...current.map((f) => f.path), ...changed.map((f) => f.path)]);
  const files = [...onBranch].sort().map((path) => ({ path, kind: baseFiles.has(path) ? ('changed' as const) : ('added' as const) }));
  const costUsd = estimateCostUsd(model, usage.snapshot, ports.prices);
  await refreshPullRequestBody(
    github,
    pull,
    {
      files: renderFilesSection(files, last.rejected),
      validation: renderValidationSection({ report: last.report, package: packageInfo(), attempt: last.number, checkRunUrl: checkRun.url, usage: { tokens: usage.snapshot, model, costUsd } }),
    },
    checkpoints,
  );
  if (!checkpoints.get().replied) {
    const feedback = task.feedback.map((f) => f.body).join('\n');
    await github.createComment(
      task.pullNumber,
      renderRefineReply({ commit, sender: task.sender, feedback, summary: last.solution.summary, files: changed.map((f) => f.path), report: last.report, checkRunUrl: checkRun.url }),
    );
    checkpoints.set('replied', true);
  }
  return { kind: 'refined', commit, passed: true };
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
