import type { RepoConfig } from '../config/repo-config.js';
import { readRepoTarball } from '../github/tarball.js';
import { validateChange } from '../validate/change/validate-change.js';
import { validationOptions } from './attempts.js';
import { completeCheckRun, senderMayTrigger, startCheckRun } from './check-run.js';
import type { TaskPorts } from './run-task.js';

export interface RerunTask {
  readonly taskId: string;
  readonly issueNumber: number;
  readonly sender: string;
  readonly headSha: string;
  readonly config: RepoConfig;
}

/**
 * "Re-run" on the check: validates the commit as it is on GitHub (whoever pushed it) and reports it in a
 * new check run on the same commit, as GitHub expects — in progress while the sandbox runs.
 */
export async function runRerun(task: RerunTask, ports: Omit<TaskPorts, 'model' | 'defaultModel'>): Promise<{ kind: 'rerun'; passed: boolean } | { kind: 'unauthorized' }> {
  const { github, checkpoints, config } = { ...ports, config: task.config };
  if (!(await senderMayTrigger(github, task.sender, task.issueNumber, config, checkpoints))) return { kind: 'unauthorized' };
  const checkRun = await startCheckRun(github, task.headSha, task.taskId, checkpoints);
  const base = await github.defaultBranch();
  const [head, baseSnapshot] = await Promise.all([
    readRepoTarball(await github.downloadTarball(task.headSha), config.limits),
    readRepoTarball(await github.downloadTarball(base.sha), config.limits),
  ]);
  const report = await validateChange({ base: { sha: base.sha, files: baseSnapshot.files }, head: head.files }, validationOptions(config, ports));
  await completeCheckRun(github, checkRun, report, checkpoints);
  return { kind: 'rerun', passed: report.passed };
}
