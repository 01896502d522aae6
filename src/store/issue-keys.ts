import type { TaskRequest } from '../webhooks/requests.js';

/** GitHub sends both `issues.opened` and `issues.labeled` for an issue opened with the label: one task. */
export const LABEL_DEDUPE_MS = 10 * 60_000;

/** A comment whose command is `cancel` or `help` acts beside the issue's running task instead of queueing behind it. */
export function isControl(request: TaskRequest): boolean {
  return request.trigger.kind === 'comment' && /^ {0,3}\/[A-Za-z0-9_-]+[ \t]+(cancel|help)\b/im.test(request.trigger.body);
}

/** The key an issue's tasks share (case-insensitive, as GitHub's names are). */
export function issueKeyOf(request: Pick<TaskRequest, 'owner' | 'repo' | 'issueNumber'>): string {
  return `${request.owner}/${request.repo}#${request.issueNumber}`.toLowerCase();
}
