import { z } from 'zod';

/** What the webhook handler hands the queue: only what the worker needs, parsed from the payload. */
export const TriggerSchema = z.discriminatedUnion('kind', [
  /** `issues.labeled` / `issues.opened` with labels: the worker checks the label against the repository's config. */
  z.object({ kind: z.literal('label'), labels: z.array(z.string()) }),
  /** `issue_comment.created` whose body has a line starting with `/`: the worker parses the command. */
  z.object({ kind: z.literal('comment'), commentId: z.number().int(), body: z.string(), isPullRequest: z.boolean() }),
  /** Any other comment on an issue whose task waits for an answer to its questions. */
  z.object({ kind: z.literal('answer'), commentId: z.number().int() }),
  /** `pull_request_review.submitted`: refines when it mentions the command or requests changes. */
  z.object({ kind: z.literal('review'), reviewId: z.number().int(), body: z.string(), state: z.string() }),
  /** `pull_request_review_comment.created`: a line comment; refines when it mentions the command. */
  z.object({ kind: z.literal('review-comment'), commentId: z.number().int(), body: z.string(), path: z.string(), line: z.number().int().nullable() }),
  /** `check_run.rerequested` on the bot's check, or `check_suite.rerequested` on its suite: validate that commit again. */
  z.object({ kind: z.literal('rerun'), headSha: z.string().regex(/^[0-9a-f]{40}$/) }),
  /** The app was installed on the repository: it gets the bot's label where it has none (issueNumber REPOSITORY_TASK). */
  z.object({ kind: z.literal('installed') }),
]);
export type Trigger = z.infer<typeof TriggerSchema>;

export const TaskRequestSchema = z.object({
  deliveryId: z.string().min(1),
  installationId: z.number().int(),
  owner: z.string().min(1),
  repo: z.string().min(1),
  /** The issue or pull request; REPOSITORY_TASK for a task about the repository itself. */
  issueNumber: z.number().int().nonnegative(),
  sender: z.string().min(1),
  trigger: TriggerSchema,
});
export type TaskRequest = z.infer<typeof TaskRequestSchema>;

/** The issue number of a task about the repository itself, which has no issue to report on. */
export const REPOSITORY_TASK = 0;

const User = z.object({ login: z.string(), type: z.string() });
const Repository = z.object({ name: z.string(), owner: z.object({ login: z.string() }) });
/** The installation an event came through: every event payload the bot reads has it. */
export const Installation = z.object({ id: z.number().int() });
/** A pull request as the events list it: its number and head branch (check events: those whose head is the checked commit). */
const PullRequest = z.object({ number: z.number().int(), head: z.object({ ref: z.string() }) });

/** The fields of `issues.labeled` / `issues.opened` the bot uses. */
export const IssuesPayloadSchema = z.object({
  action: z.enum(['labeled', 'opened']),
  issue: z.object({ number: z.number().int(), labels: z.array(z.object({ name: z.string() })).optional().default([]), pull_request: z.unknown().optional() }),
  label: z.object({ name: z.string() }).optional(),
  repository: Repository,
  sender: User,
  installation: Installation,
});

/** The fields of `issue_comment.created` the bot uses. */
export const IssueCommentPayloadSchema = z.object({
  action: z.literal('created'),
  issue: z.object({ number: z.number().int(), pull_request: z.unknown().optional() }),
  comment: z.object({ id: z.number().int(), body: z.string(), user: User }),
  repository: Repository,
  sender: User,
  installation: Installation,
});

/** A line that starts with a slash command; the worker reads it with the repository's command word. */
export const MAYBE_COMMAND = /^[ \t]*\/[a-z0-9_-]+/im;

/**
 * The fields of `check_run.rerequested` the bot uses. `check_suite.head_branch` is null when GitHub cannot
 * name one branch (a fork, a commit on several branches); the pull requests and the external id remain.
 */
export const CheckRunPayloadSchema = z.object({
  action: z.literal('rerequested'),
  check_run: z.object({
    name: z.string(),
    head_sha: z.string(),
    external_id: z.string().nullable().optional(),
    pull_requests: z.array(PullRequest).optional().default([]),
    check_suite: z.object({ head_branch: z.string().nullable() }),
  }),
  repository: Repository,
  sender: User,
  installation: Installation,
});

/** The fields of `check_suite.rerequested` ("Re-run all checks"), which GitHub sends only to the suite's app. */
export const CheckSuitePayloadSchema = z.object({
  action: z.literal('rerequested'),
  check_suite: z.object({ head_sha: z.string(), head_branch: z.string().nullable(), pull_requests: z.array(PullRequest).optional().default([]) }),
  repository: Repository,
  sender: User,
  installation: Installation,
});

// The bot's branch names, one per issue: made by branchOf, read back by issueOfBranch, and the first part of
// a check run's external id. The format is spelled out here only.

/** The bot's branch for an issue: `code4py/issue-<n>`. */
export const branchOf = (issue: number) => `code4py/issue-${issue}`;

/** The issue a branch of the bot's belongs to (see branchOf), or null for any other branch. */
export function issueOfBranch(branch: string | null): number | null {
  const match = /^code4py\/issue-(\d+)$/.exec(branch ?? '');
  return match ? Number(match[1]) : null;
}

/**
 * The check run's external id: the bot's branch for the issue, then the task. GitHub sends it back with
 * "Re-run", which is how the bot finds the issue when the event names no branch.
 */
export function checkRunExternalId(issue: number, taskId: string): string {
  return `${branchOf(issue)}@${taskId}`;
}

/** The issue a check run's external id names (see checkRunExternalId; a bare branch too), or null for any other id. */
export function issueOfExternalId(externalId: string | null | undefined): number | null {
  const id = externalId ?? '';
  const at = id.indexOf('@');
  return issueOfBranch(at === -1 ? id : id.slice(0, at));
}

/**
 * The issue a re-run is for: the check suite's branch, else the branch of a pull request the checked
 * commit heads, else the check run's external id; null when none of them is the bot's.
 */
export function issueOfRerun(check: { headBranch: string | null; pullRequests: ReadonlyArray<{ head: { ref: string } }>; externalId?: string | null | undefined }): number | null {
  const fromBranch = issueOfBranch(check.headBranch);
  if (fromBranch !== null) return fromBranch;
  for (const pull of check.pullRequests) {
    const fromPull = issueOfBranch(pull.head.ref);
    if (fromPull !== null) return fromPull;
  }
  return issueOfExternalId(check.externalId);
}

/** The fields of `pull_request_review.submitted` the bot uses. */
export const ReviewPayloadSchema = z.object({
  action: z.literal('submitted'),
  review: z.object({ id: z.number().int(), body: z.string().nullable(), state: z.string(), user: User }),
  pull_request: PullRequest,
  repository: Repository,
  sender: User,
  installation: Installation,
});

/** The fields of `pull_request_review_comment.created` the bot uses. */
export const ReviewCommentPayloadSchema = z.object({
  action: z.literal('created'),
  comment: z.object({ id: z.number().int(), body: z.string(), path: z.string(), line: z.number().int().nullable().optional(), user: User }),
  pull_request: PullRequest,
  repository: Repository,
  sender: User,
  installation: Installation,
});
