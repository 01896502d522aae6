import type { RepoConfig } from '../config/repo-config.js';
import type { GitHubApi } from '../github/api.js';
import { refreshPullRequestBody } from '../publish/pull-request-body.js';
import { renderValidationSection } from '../render/pull-request.js';
import { validateChange } from '../validate/change/validate-change.js';
import type { Report } from '../validate/report.js';
import { packageInfo } from '../version.js';
import { branchOf, checkRunExternalId } from '../webhooks/requests.js';
import { validationOptions } from './attempt.js';
import { completeCheckRun, senderMayTrigger, startCheckRun, type CheckRunRef } from './check-run.js';
import type { TaskPorts } from './ports.js';
import { snapshotsOf } from './snapshot.js';

export interface RerunTask {
  readonly taskId: string;
  readonly issueNumber: number;
  readonly sender: string;
  readonly headSha: string;
  readonly config: RepoConfig;
}

/**
 * "Re-run" on the check: validates the commit as it is on GitHub (whoever pushed it) and reports it in a
 * new check run on the same commit, as GitHub expects — in progress while the sandbox runs. When that
 * commit is the head of the issue's open pull request, its description shows the new validation.
 */
export async function runRerun(task: RerunTask, ports: Omit<TaskPorts, 'model' | 'defaultModel'>): Promise<{ kind: 'rerun'; passed: boolean } | { kind: 'unauthorized' }> {
  const { github, checkpoints, config } = { ...ports, config: task.config };
  if (!(await senderMayTrigger(github, task.sender, task.issueNumber, config, checkpoints))) return { kind: 'unauthorized' };
  const checkRun = await startCheckRun(github, task.headSha, checkRunExternalId(task.issueNumber, task.taskId), checkpoints);
  // Judged against where the commit forked from the default branch: the branch's newer commits there are not its change.
  const base = await github.mergeBase((await github.defaultBranch()).sha, task.headSha);
  const snapshots = await snapshotsOf(github, task.headSha, base, config.limits);
  const report = await validateChange({ base: { sha: base, files: snapshots.base.files }, head: snapshots.head.files }, validationOptions(config, ports));
  await completeCheckRun(github, checkRun, report, checkpoints);
  await showOnPullRequest(github, task, checkRun, report, checkpoints);
  return { kind: 'rerun', passed: report.passed };
}

/** The validation in the pull request's description, when the re-run commit is still its head (an older commit's result would mislead). */
async function showOnPullRequest(github: GitHubApi, task: RerunTask, checkRun: CheckRunRef, report: Report, checkpoints: TaskPorts['checkpoints']): Promise<void> {
  const found = await github.findPullRequest(branchOf(task.issueNumber));
  if (!found || found.headSha !== task.headSha) return;
  const pull = await github.getPullRequest(found.number);
  await refreshPullRequestBody(github, pull, { validation: renderValidationSection({ report, package: packageInfo(), checkRunUrl: checkRun.url }) }, checkpoints);
}
