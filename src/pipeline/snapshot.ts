import type { GitHubApi } from '../github/api.js';
import { readRepoTarball, type RepoSnapshot, type TarballLimits } from '../github/tarball.js';

/** The repository at `ref`, downloaded and read within the limits: one promise, so two of them run side by side. */
export async function snapshotAt(github: GitHubApi, ref: string, limits: TarballLimits): Promise<RepoSnapshot> {
  return readRepoTarball(await github.downloadTarball(ref), limits);
}
