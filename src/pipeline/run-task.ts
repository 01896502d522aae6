import type { RepoConfig } from '../config/repo-config.js';
import { estimateCostUsd } from '../eval/prices.js';
import { TokenLedger } from '../llm/index.js';
import { CLARIFICATION_MARK, renderClarification } from '../render/comments.js';
import { formatTestCounts } from '../render/common.js';
import { renderMarkdown } from '../render/markdown.js';
import { StatusComment } from '../publish/status-comment.js';
import { branchOf, checkRunExternalId } from '../webhooks/requests.js';
import { pushCommit } from '../publish/commit.js';
import { attemptProblems, type Attempt } from './attempt.js';
import { completeCheckRun, senderMayTrigger, startCheckRun } from './check-run.js';
import type { TaskPorts } from './ports.js';
import { snapshotAt, snapshotsOf } from './snapshot.js';
import { pullRequestBody, solveTask } from './solve.js';

export interface GenerateTask {
  readonly taskId: string;
  readonly issueNumber: number;
  readonly sender: string;
  /** The comment that triggered the task (reacted to), or none for a label. */
  readonly commentId?: number;
  /** Text after `/code4py generate`. */
  readonly instructions?: string;
  /** The issue's author answering the bot's questions: no permission is needed for that. */
  readonly senderTrusted?: boolean;
  readonly config: RepoConfig;
}

export type TaskOutcome =
  | { readonly kind: 'unauthorized' }
  | { readonly kind: 'clarification'; readonly questions: readonly string[] }
  | { readonly kind: 'pull-request'; readonly number: number; readonly url: string; readonly passed: boolean }
  | { readonly kind: 'failed'; readonly attempts: number };

/**
 * The bot's main loop for one issue: check the sender, then the shared pipeline (src/pipeline/solve.ts:
 * understand, context, generate, validate in the sandbox, repair), then publish on GitHub — the status
 * comment, the commit, the check run and the pull request. Every GitHub effect is keyed by a name it can find again (the branch, the pull
 * request by its head, the checkpoints), so a redelivery or a resumed task converges on one result.
 */
export async function runGenerateTask(task: GenerateTask, ports: TaskPorts): Promise<TaskOutcome> {
  const { github, checkpoints } = ports;
  const { config } = task;
  const saved = checkpoints.get();

  if (!task.senderTrusted && !(await senderMayTrigger(github, task.sender, task.issueNumber, config, checkpoints))) return { kind: 'unauthorized' };

  if (!saved.reacted) {
    try {
      if (task.commentId) await github.reactToComment(task.commentId, 'eyes');
      else await github.reactToIssue(task.issueNumber, 'eyes');
    } catch (error) {
      // The reaction only acknowledges; a trigger comment deleted meanwhile (404) must not stop the work.
      if ((error as { status?: number }).status !== 404) throw error;
    }
    checkpoints.set('reacted', true);
  }
  const status = new StatusComment(github, task.issueNumber, typeof saved.statusCommentId === 'number' ? saved.statusCommentId : null, (id) => checkpoints.set('statusCommentId', id), ports.statusIntervalMs);
  await status.progress('⏳ Code4Py is on it: understanding the task…');

  const usage = new TokenLedger(config.max_tokens_per_task);
  const model = config.model ?? ports.defaultModel;
  const issue = await github.getIssue(task.issueNumber);
  const allComments = await github.listComments(task.issueNumber);
  const comments = allComments.filter((c) => !c.authorIsBot && !c.body.trimStart().toLowerCase().startsWith(config.command.toLowerCase()));
  // The bot asks once: after its questions, any new trigger goes ahead with the answers and assumptions there are.
  const askedBefore = allComments.some((c) => c.authorIsBot && c.body.includes(CLARIFICATION_MARK));
  const taskText = {
    number: issue.number,
    title: issue.title,
    body: issue.body,
    comments: comments.map((c) => ({ author: c.author, body: c.body })),
    ...(task.instructions ? { instructions: task.instructions } : {}),
  };
  const branch = branchOf(task.issueNumber);
  const result = await solveTask(
    {
      task: taskText,
      config,
      model,
      usage,
      mayAsk: !task.instructions && !askedBefore,
      // The tarball at the branch head when a refinement or an earlier run made the branch, else at the base;
      // the change is always validated against the commit the branch started from.
      repository: async () => {
        const [defaultBranch, branchHead] = await Promise.all([github.defaultBranch(), github.branchSha(branch)]);
        if (!branchHead) {
          const snapshot = await snapshotAt(github, defaultBranch.sha, config.limits);
          return { files: snapshot.files, sha: defaultBranch.sha, blocked: new Set([...snapshot.symlinks, ...snapshot.submodules]), defaultBranch, branchHead };
        }
        // The branch is judged against where it forked: the default branch's newer commits are not its change.
        const baseSha = await github.mergeBase(defaultBranch.sha, branchHead);
        const snapshots = await snapshotsOf(github, branchHead, baseSha, config.limits);
        const { symlinks, submodules } = snapshots.head;
        return { files: snapshots.head.files, sha: branchHead, base: { sha: baseSha, files: snapshots.base.files }, blocked: new Set([...symlinks, ...submodules]), defaultBranch, branchHead };
      },
      onProgress: (event) => {
        if (event.stage === 'attempt') return status.progress(`⏳ Code4Py is generating and validating the code (attempt ${event.number} of ${event.of})…`);
      },
    },
    ports,
  );
  if (result.kind === 'clarification') {
    await status.finish(renderClarification({ questions: result.questions, assumptions: result.analysis.assumptions, command: config.command }));
    return { kind: 'clarification', questions: result.questions };
  }

  const { attempts, last, passed, analysis, changed } = result;
  const { defaultBranch: base, branchHead } = result.repo;
  if (!passed && !config.draft) {
    await status.finish(failureText(attempts, config.command));
    return { kind: 'failed', attempts: attempts.length };
  }

  // Publish: one commit with one tree of inline contents, on the branch head (never forced).
  const parent = branchHead ?? base.sha;
  const commit = await pushCommit(github, { branch, parent, exists: branchHead !== null, files: changed, message: `${analysis.title}\n\nGenerated by Code4Py for #${task.issueNumber}.` }, checkpoints);

  const checkRun = await startCheckRun(github, commit, checkRunExternalId(task.issueNumber, task.taskId), checkpoints);
  await completeCheckRun(github, checkRun, last.report, checkpoints);

  const costUsd = estimateCostUsd(model, usage.snapshot, ports.prices);
  const body = pullRequestBody(result, { issue: task.issueNumber, model, command: config.command, usage, checkRunUrl: checkRun.url, costUsd });
  const existing = await github.findPullRequest(branch);
  const pull = existing ?? (await github.createPullRequest({ title: analysis.title, body, head: branch, base: base.name, draft: !passed }));
  if (existing) await github.updatePullRequest(existing.number, { body });
  checkpoints.set('pullRequestNumber', pull.number);

  await status.finish(
    passed
      ? `✅ Code4Py opened #${pull.number}: ${formatTestCounts(last.report.tests, 'headline')} (attempt ${last.number} of ${config.max_attempts}${last.strengthened ? ', tests strengthened' : ''}).`
      : `${failureText(attempts, config.command)}\n\nThe last attempt is in the draft pull request #${pull.number}, with its failing check.`,
  );
  return { kind: 'pull-request', number: pull.number, url: pull.url, passed };
}

function failureText(attempts: readonly Attempt[], command: string): string {
  const lines = attempts.map((a) => `${a.number}. ${attemptProblems(a).join('; ') || 'failed'}`);
  const last = attempts.at(-1)!;
  return [
    `❌ Code4Py could not produce code that passes validation in ${attempts.length} ${attempts.length === 1 ? 'attempt' : 'attempts'}:`,
    '',
    ...lines,
    '',
    '<details><summary>The last validation</summary>',
    '',
    renderMarkdown(last.report, { maxLength: 20_000 }),
    '',
    '</details>',
    '',
    `Add detail to the issue and run \`${command} retry\`.`,
  ].join('\n');
}

