import type { RepoConfig } from '../config/repo-config.js';
import { readRepoTarball } from '../github/tarball.js';
import { validateWorkspace } from '../validate/pipeline.js';
import { writeWorkspace } from '../validate/workspace.js';
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
  const snapshot = await readRepoTarball(await github.downloadTarball(task.headSha), config.limits);
  const workspace = await writeWorkspace(snapshot.files);
  try {
    const report = await validateWorkspace(workspace, { config, sandbox: ports.sandbox, linter: ports.linter, ...(ports.signal ? { signal: ports.signal } : {}) });
    await completeCheckRun(github, checkRun, report, checkpoints);
    return { kind: 'rerun', passed: report.passed };
  } finally {
    await workspace.dispose();
  }
}
