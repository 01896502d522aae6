import type { GitHubApi } from '../github/api.js';
import type { Checkpoints } from '../pipeline/ports.js';
import { replaceBodySection, type BodySection } from '../render/pull-request.js';

/**
 * Brings the pull request's description up to date with a new commit (a refinement, a re-run): only the
 * sections given are replaced, so the summary, requirements and anything a person added stay as they
 * are. One write at most, and none on a resumed task that made it already or when nothing changed.
 */
export async function refreshPullRequestBody(
  github: GitHubApi,
  pull: { readonly number: number; readonly body: string },
  sections: Partial<Record<BodySection, string>>,
  checkpoints: Checkpoints,
): Promise<void> {
  if (checkpoints.get().pullRequestBodyUpdated) return;
  let body = pull.body;
  for (const [name, text] of Object.entries(sections) as Array<[BodySection, string]>) body = replaceBodySection(body, name, text);
  if (body !== pull.body) await github.updatePullRequest(pull.number, { body });
  checkpoints.set('pullRequestBodyUpdated', true);
}
