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

/** Why intake queued nothing, the same words in both stores; `kind` is what metrics count it as. */
export const NOT_QUEUED = {
  notWaiting: { queued: false, reason: 'not a command, and no question is waiting for an answer' },
  seen: { queued: false, reason: 'delivery already seen' },
  coalesced: { queued: false, reason: 'the issue was labelled moments ago (issues.opened and issues.labeled)' },
  busy: { queued: false, reason: 'a task for this issue is already queued or running' },
} as const;

/** How metrics count an intake result: queued, duplicate (redelivery, opened+labeled), busy, ignored. */
export function intakeResultKind(result: { queued: boolean; reason?: string }): 'queued' | 'duplicate' | 'busy' | 'ignored' {
  if (result.queued) return 'queued';
  if (result.reason === NOT_QUEUED.seen.reason || result.reason === NOT_QUEUED.coalesced.reason) return 'duplicate';
  if (result.reason === NOT_QUEUED.busy.reason) return 'busy';
  return 'ignored';
}
