import type { RepoConfig } from '../config/repo-config.js';
import { readRepoTarball } from '../github/tarball.js';
import { TokenLedger, type Analysis, type RepoFile, type ReviewFeedback } from '../llm/index.js';
import { renderMarkdown } from '../render/markdown.js';
import { decodeText } from '../validate/workspace.js';
import { issueOfBranch } from '../webhooks/requests.js';
import { generateAndValidate, materialise, pushCommit } from './attempts.js';
import { completeCheckRun, senderMayTrigger, startCheckRun } from './check-run.js';
import { buildContext } from './context/pick-context.js';
import type { TaskPorts } from './run-task.js';

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
 * fresh check run and a reply on the pull request.
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
  const base = await github.defaultBranch();
  const [headSnapshot, baseSnapshot] = await Promise.all([
    readRepoTarball(await github.downloadTarball(head), config.limits),
    readRepoTarball(await github.downloadTarball(pull.baseRef === base.name ? base.sha : pull.baseRef), config.limits),
  ]);
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
    base: { sha: pull.baseRef === base.name ? base.sha : null, files: baseSnapshot.files },
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
  const changed = materialise(repoFiles, last.accepted).changed;
  const commit = await pushCommit(
    github,
    { branch: pull.headRef, parent: head, exists: true, files: changed, message: `Refine: ${firstLine(task.feedback[0]?.body ?? 'review feedback')}\n\nRequested by @${task.sender} on #${task.pullNumber}.` },
    checkpoints,
  );
  await completeCheckRun(github, await startCheckRun(github, commit, task.taskId, checkpoints), last.report, checkpoints);
  if (!checkpoints.get().replied) {
    await github.createComment(
      task.pullNumber,
      `🔁 Code4Py pushed ${commit.slice(0, 7)} for @${task.sender}: ${last.solution.summary}\n\nValidation passed: ${last.report.tests.passed} tests pass (${usage.snapshot.total} tokens).`,
    );
    checkpoints.set('replied', true);
  }
  return { kind: 'refined', commit, passed: true };
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 60 ? `${line.slice(0, 57)}…` : line;
}
