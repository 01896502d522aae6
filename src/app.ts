import type { Probot } from 'probot';
import { CHECK_RUN_NAME } from './pipeline/check-run.js';
import { payloadOf } from './webhooks/payload.js';
import {
  CheckRunPayloadSchema,
  CheckSuitePayloadSchema,
  IssueCommentPayloadSchema,
  IssuesPayloadSchema,
  issueOfBranch,
  issueOfRerun,
  MAYBE_COMMAND,
  ReviewCommentPayloadSchema,
  ReviewPayloadSchema,
  type TaskRequest,
  type Trigger,
} from './webhooks/requests.js';

/**
 * Where deliveries go: a durable queue. The embedded store answers synchronously from the local disk;
 * Redis mode answers after one round trip to Redis. Neither waits for GitHub, the model or the sandbox.
 */
export interface Intake {
  /** Records a delivery id; false when it was seen before (a redelivery), which is then dropped. */
  accept(request: TaskRequest): AcceptResult | Promise<AcceptResult>;
}

export interface AcceptResult {
  readonly queued: boolean;
  readonly reason?: string;
}

/**
 * The Probot app: parse, dedupe, enqueue, answer. Everything that needs GitHub or the model happens in
 * the worker, so a delivery is acknowledged in milliseconds whatever the load.
 */
export function createApp(intake: Intake) {
  return (app: Probot): void => {
    app.on(['issues.labeled', 'issues.opened'], async (context) => {
      const p = payloadOf(context, 'issues', IssuesPayloadSchema);
      if (!p || p.sender.type === 'Bot' || p.issue.pull_request !== undefined) return;
      const labels = p.action === 'labeled' ? (p.label ? [p.label.name] : []) : p.issue.labels.map((l) => l.name);
      if (labels.length === 0) return;
      const result = await intake.accept(requestOf(context.id, p, { kind: 'label', labels }));
      context.log.debug({ deliveryId: context.id, ...result }, 'label delivery taken');
    });

    app.on('issue_comment.created', async (context) => {
      const p = payloadOf(context, 'issue_comment', IssueCommentPayloadSchema);
      // Our own comments and other bots' never trigger work.
      if (!p || p.sender.type === 'Bot' || p.comment.user.type === 'Bot') return;
      // A comment without a command counts only as the answer an issue's task is waiting for (the store knows).
      const trigger: Trigger = MAYBE_COMMAND.test(p.comment.body)
        ? { kind: 'comment', commentId: p.comment.id, body: p.comment.body, isPullRequest: p.issue.pull_request !== undefined }
        : { kind: 'answer', commentId: p.comment.id };
      if (trigger.kind === 'answer' && p.issue.pull_request !== undefined) return;
      const result = await intake.accept(requestOf(context.id, p, trigger));
      context.log.debug({ deliveryId: context.id, ...result }, 'comment delivery taken');
    });

    // Reviews and line comments on the bot's pull requests: the worker decides whether they ask for a change.
    app.on('pull_request_review.submitted', async (context) => {
      const p = payloadOf(context, 'pull_request_review', ReviewPayloadSchema);
      if (!p) return;
      const body = p.review.body ?? '';
      if (p.sender.type === 'Bot' || issueOfBranch(p.pull_request.head.ref) === null) return;
      if (!MAYBE_COMMAND.test(body) && !body.includes('/') && p.review.state !== 'changes_requested') return;
      const result = await intake.accept(requestOf(context.id, { ...p, issue: { number: p.pull_request.number } }, { kind: 'review', reviewId: p.review.id, body, state: p.review.state }));
      context.log.debug({ deliveryId: context.id, ...result }, 'review delivery taken');
    });

    app.on('pull_request_review_comment.created', async (context) => {
      const p = payloadOf(context, 'pull_request_review_comment', ReviewCommentPayloadSchema);
      if (!p) return;
      if (p.sender.type === 'Bot' || issueOfBranch(p.pull_request.head.ref) === null || !p.comment.body.includes('/')) return;
      const trigger: Trigger = { kind: 'review-comment', commentId: p.comment.id, body: p.comment.body, path: p.comment.path, line: p.comment.line ?? null };
      const result = await intake.accept(requestOf(context.id, { ...p, issue: { number: p.pull_request.number } }, trigger));
      context.log.debug({ deliveryId: context.id, ...result }, 'review comment delivery taken');
    });

    // "Re-run" on the bot's check run validates the same commit again.
    app.on('check_run.rerequested', async (context) => {
      const p = payloadOf(context, 'check_run', CheckRunPayloadSchema);
      if (!p) return;
      const run = p.check_run;
      const issueNumber = issueOfRerun({ headBranch: run.check_suite.head_branch, pullRequests: run.pull_requests, externalId: run.external_id });
      if (run.name !== CHECK_RUN_NAME || issueNumber === null || p.sender.type === 'Bot') return;
      const result = await intake.accept(requestOf(context.id, { ...p, issue: { number: issueNumber } }, { kind: 'rerun', headSha: run.head_sha }));
      context.log.debug({ deliveryId: context.id, ...result }, 're-run delivery taken');
    });

    // "Re-run all checks" re-requests the bot's whole suite on a commit: the same re-validation.
    app.on('check_suite.rerequested', async (context) => {
      const p = payloadOf(context, 'check_suite', CheckSuitePayloadSchema);
      if (!p) return;
      const suite = p.check_suite;
      const issueNumber = issueOfRerun({ headBranch: suite.head_branch, pullRequests: suite.pull_requests });
      if (issueNumber === null || p.sender.type === 'Bot') return;
      const result = await intake.accept(requestOf(context.id, { ...p, issue: { number: issueNumber } }, { kind: 'rerun', headSha: suite.head_sha }));
      context.log.debug({ deliveryId: context.id, ...result }, 're-run delivery taken');
    });
  };
}

/** The fields every task request takes from its delivery. */
function requestOf(
  deliveryId: string,
  p: { installation: { id: number }; repository: { name: string; owner: { login: string } }; issue: { number: number }; sender: { login: string } },
  trigger: Trigger,
): TaskRequest {
  return { deliveryId, installationId: p.installation.id, owner: p.repository.owner.login, repo: p.repository.name, issueNumber: p.issue.number, sender: p.sender.login, trigger };
}
