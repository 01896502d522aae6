import type { GitHubApi } from '../github/api.js';
import { readRepoTarball, type RepoSnapshot, type TarballLimits } from '../github/tarball.js';

/** The repository at `ref`, downloaded and read within the limits. */
export async function snapshotAt(github: GitHubApi, ref: string, limits: TarballLimits): Promise<RepoSnapshot> {
  return readRepoTarball(await github.downloadTarball(ref), limits);
}

/**
 * The repository at a change's head and at its base, downloaded side by side; once when they are the same
 * commit (a head that is already merged is its own merge base).
 */
export async function snapshotsOf(github: GitHubApi, head: string, base: string, limits: TarballLimits): Promise<{ readonly head: RepoSnapshot; readonly base: RepoSnapshot }> {
  if (head === base) {
    const both = await snapshotAt(github, head, limits);
    return { head: both, base: both };
  }
  const [atHead, atBase] = await Promise.all([snapshotAt(github, head, limits), snapshotAt(github, base, limits)]);
  return { head: atHead, base: atBase };
}
