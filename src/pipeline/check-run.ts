import type { RepoConfig } from '../config/repo-config.js';
import { permissionReaches, type GitHubApi } from '../github/api.js';
import { batchAnnotations, toAnnotations } from '../render/annotations.js';
import { checkRunTitle } from '../render/figures.js';
import { renderMarkdown } from '../render/markdown.js';
import type { Report } from '../validate/report.js';

export const CHECK_RUN_NAME = 'Code4Py validation';

interface Checkpoints {
  get(): Record<string, unknown>;
  set(key: string, value: unknown): void;
}

/** A check run the bot made: its id, and its page on GitHub when GitHub gave one. */
export interface CheckRunRef {
  readonly id: number;
  readonly url: string | null;
}

/**
 * Whether the sender has the configured permission. Anyone else gets one polite reply (once per task,
 * whatever the retries) and no model call.
 */
export async function senderMayTrigger(github: GitHubApi, sender: string, issue: number, config: RepoConfig, checkpoints: Checkpoints): Promise<boolean> {
  if (permissionReaches(await github.permissionOf(sender), config.permission)) return true;
  if (!checkpoints.get().unauthorizedReply) {
    await github.createComment(
      issue,
      `Thanks for your interest, @${sender}! Code4Py only takes work from people with ${config.permission} access to this repository; a maintainer can start it with \`${config.command}\`.`,
    );
    checkpoints.set('unauthorizedReply', true);
  }
  return false;
}

/** A new check run on the commit, in progress; keyed by the task, so a resumed task reuses it. */
export async function startCheckRun(github: GitHubApi, headSha: string, externalId: string, checkpoints: Checkpoints): Promise<CheckRunRef> {
  const saved = checkpoints.get();
  if (typeof saved.checkRunId === 'number') return { id: saved.checkRunId, url: typeof saved.checkRunUrl === 'string' ? saved.checkRunUrl : null };
  const run = await github.createCheckRun({ name: CHECK_RUN_NAME, headSha, externalId, status: 'in_progress' });
  checkpoints.set('checkRunId', run.id);
  if (run.url !== null) checkpoints.set('checkRunUrl', run.url);
  return run;
}

/**
 * Completes the check run with its conclusion, a title with the figures (`5 tests passed · coverage 100%
 * · 2 lint warnings`), the markdown summary and every annotation (GitHub takes 50 a request).
 */
export async function completeCheckRun(github: GitHubApi, run: CheckRunRef, report: Report, checkpoints: Checkpoints): Promise<void> {
  if (checkpoints.get().checkRunDone) return;
  const title = checkRunTitle(report);
  const summary = renderMarkdown(report);
  const batches = batchAnnotations(toAnnotations(report));
  for (const annotations of batches.slice(0, -1)) await github.updateCheckRun(run.id, { output: { title, summary, annotations } });
  await github.updateCheckRun(run.id, { status: 'completed', conclusion: report.passed ? 'success' : 'failure', output: { title, summary, annotations: batches.at(-1) ?? [] } });
  checkpoints.set('checkRunDone', true);
}
