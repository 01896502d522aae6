import type { GitHubApi } from '../github/api.js';
import type { Checkpoints } from '../pipeline/ports.js';
import type { InputFile } from '../validate/workspace.js';

/**
 * One commit with one tree of inline contents on `parent`, then the branch created or moved forward
 * (never forced, so a commit someone else pushed is never lost). Checkpointed: a resumed task reuses both.
 */
export async function pushCommit(
  github: GitHubApi,
  change: { branch: string; parent: string; exists: boolean; files: readonly InputFile[]; message: string },
  checkpoints: Checkpoints,
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

