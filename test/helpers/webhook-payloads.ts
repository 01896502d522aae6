import { createRequire } from 'node:module';
import type { WebhookDefinition } from '@octokit/webhooks-examples';
import type {
  CheckRunRerequestedEvent,
  CheckSuiteRerequestedEvent,
  InstallationCreatedEvent,
  InstallationRepositoriesAddedEvent,
  IssueCommentCreatedEvent,
  IssuesLabeledEvent,
  IssuesOpenedEvent,
  PullRequestReviewCommentCreatedEvent,
  PullRequestReviewSubmittedEvent,
} from '@octokit/webhooks-types';

/**
 * Webhook payloads for tests, made from GitHub's own examples (`@octokit/webhooks-examples`) so they keep
 * every field and quirk of a real delivery; only the repository, issue, comment, sender and installation
 * are changed to the test's. Each call returns a fresh deep copy.
 */

const definitions = createRequire(import.meta.url)('@octokit/webhooks-examples') as WebhookDefinition[];

export interface Actor {
  readonly login: string;
  readonly type?: 'User' | 'Bot';
}

export interface Where {
  /** Default `octo` (the repository owner). */
  readonly owner?: string;
  /** Default `calc`. */
  readonly repo?: string;
  /** Default 4242, FakeGitHub's installation. */
  readonly installationId?: number;
  /** Who acted (added the label, opened the issue, wrote the comment); default `alice`, a User. */
  readonly sender?: string | Actor;
}

export interface IssueSpec {
  readonly number?: number;
  readonly title?: string;
  readonly body?: string | null;
  /** Default: the sender. */
  readonly author?: string | Actor;
  readonly labels?: readonly string[];
}

type Json = unknown;

export function issuesLabeledPayload(options: Where & { issue?: IssueSpec; label?: string } = {}): IssuesLabeledEvent {
  const payload = adapt(example('issues', 'labeled'), options) as unknown as IssuesLabeledEvent;
  const label = options.label ?? 'code4py';
  const labels = options.issue?.labels ?? [label];
  setIssue(payload.issue, options, { ...options.issue, labels: labels.includes(label) ? labels : [...labels, label] });
  payload.label = labelObject(payload.issue.labels![0]!, options, label) as unknown as IssuesLabeledEvent['label'];
  return payload;
}

export function issuesOpenedPayload(options: Where & { issue?: IssueSpec } = {}): IssuesOpenedEvent {
  const payload = adapt(example('issues', 'opened'), options) as unknown as IssuesOpenedEvent;
  setIssue(payload.issue as IssuesLabeledEvent['issue'], options, options.issue ?? {});
  return payload;
}

/** `issue_comment.created`; with `onPullRequest`, the issue is a pull request's, as GitHub sends for PR conversation comments. */
export function issueCommentCreatedPayload(options: Where & { body: string; issue?: IssueSpec; commentId?: number; onPullRequest?: boolean }): IssueCommentCreatedEvent {
  const payload = adapt(example('issue_comment', 'created'), options) as unknown as IssueCommentCreatedEvent;
  const issue = payload.issue as unknown as IssuesLabeledEvent['issue'];
  setIssue(issue, options, options.issue ?? {});
  const { owner, repo } = names(options);
  const number = issue.number;
  if (options.onPullRequest) {
    const template = (example('issues', 'demilestoned').issue as { pull_request: Record<string, unknown> }).pull_request;
    const pull = rewrite(template, (s) => s.replace(/Codertocat\/Hello-World\/pulls?\/\d+/g, (m) => m.replace(/Codertocat\/Hello-World/, `${owner}/${repo}`).replace(/\d+$/, String(number))));
    (issue as { pull_request?: unknown }).pull_request = { ...(pull as object), merged_at: null };
    issue.html_url = `https://github.com/${owner}/${repo}/pull/${number}`;
  }
  const id = options.commentId ?? 492700400 + number;
  const comment = payload.comment as unknown as Record<string, unknown>;
  Object.assign(comment, {
    id,
    node_id: Buffer.from(`IssueComment:${id}`).toString('base64'),
    body: options.body,
    user: user(comment.user, actor(options.sender)),
    url: `https://api.github.com/repos/${owner}/${repo}/issues/comments/${id}`,
    html_url: `https://github.com/${owner}/${repo}/${options.onPullRequest ? 'pull' : 'issues'}/${number}#issuecomment-${id}`,
    issue_url: `https://api.github.com/repos/${owner}/${repo}/issues/${number}`,
  });
  return payload;
}

/** The pull request a review or line comment is on: Code4Py's own have the head branch `code4py/issue-<n>`. */
export interface PullSpec {
  readonly number: number;
  readonly head: string;
  readonly headSha?: string;
  /** Default `main`. */
  readonly base?: string;
}

/** `pull_request_review.submitted`: a review with its body and state, by the sender. */
export function reviewSubmittedPayload(
  options: Where & { pull: PullSpec; review: { id?: number; body: string | null; state: 'approved' | 'changes_requested' | 'commented' } },
): PullRequestReviewSubmittedEvent {
  const payload = adapt(example('pull_request_review', 'submitted'), options) as unknown as PullRequestReviewSubmittedEvent;
  setPull(payload.pull_request as unknown as Record<string, unknown>, options);
  const review = payload.review as unknown as Record<string, unknown>;
  const id = options.review.id ?? 237895000 + options.pull.number;
  Object.assign(review, { id, node_id: Buffer.from(`PullRequestReview:${id}`).toString('base64'), body: options.review.body, state: options.review.state, user: user(review.user, actor(options.sender)) });
  return payload;
}

/** `pull_request_review_comment.created`: a line comment on a file of the pull request, by the sender. */
export function reviewCommentCreatedPayload(
  options: Where & { pull: PullSpec; comment: { id?: number; body: string; path: string; line: number | null } },
): PullRequestReviewCommentCreatedEvent {
  const payload = adapt(example('pull_request_review_comment', 'created'), options) as unknown as PullRequestReviewCommentCreatedEvent;
  setPull(payload.pull_request as unknown as Record<string, unknown>, options);
  const comment = payload.comment as unknown as Record<string, unknown>;
  const id = options.comment.id ?? 191908000 + options.pull.number;
  Object.assign(comment, {
    id,
    node_id: Buffer.from(`PullRequestReviewComment:${id}`).toString('base64'),
    body: options.comment.body,
    path: options.comment.path,
    line: options.comment.line,
    original_line: options.comment.line,
    user: user(comment.user, actor(options.sender)),
  });
  return payload;
}

/** A pull request as check_run and check_suite events list them (the ones whose head is the checked commit). */
export interface CheckPullSpec {
  readonly number: number;
  readonly head: string;
  /** Default `main`. */
  readonly base?: string;
}

/**
 * `check_run.rerequested`: someone clicked "Re-run" on a check run of `headSha` (on the branch `headBranch`,
 * null as GitHub sends it when it cannot name one), with the run's external id and pull requests.
 */
export function checkRunRerequestedPayload(options: Where & { headSha: string; headBranch: string | null; name?: string; externalId?: string; pullRequests?: readonly CheckPullSpec[] }): CheckRunRerequestedEvent {
  const payload = adapt(example('check_run', 'rerequested'), options) as unknown as CheckRunRerequestedEvent;
  const run = payload.check_run as unknown as Record<string, unknown> & { check_suite: Record<string, unknown> };
  Object.assign(run, { name: options.name ?? 'Code4Py validation', head_sha: options.headSha, external_id: options.externalId ?? '', pull_requests: checkPulls(options, options.headSha) });
  Object.assign(run.check_suite, { head_branch: options.headBranch, head_sha: options.headSha });
  return payload;
}

/** `check_suite.rerequested`: someone clicked "Re-run all checks" on the app's suite for `headSha`. */
export function checkSuiteRerequestedPayload(options: Where & { headSha: string; headBranch: string | null; pullRequests?: readonly CheckPullSpec[] }): CheckSuiteRerequestedEvent {
  const payload = adapt(example('check_suite', 'rerequested'), options) as unknown as CheckSuiteRerequestedEvent;
  const suite = payload.check_suite as unknown as Record<string, unknown> & { head_commit: Record<string, unknown> };
  Object.assign(suite, { head_branch: options.headBranch, head_sha: options.headSha, after: options.headSha, pull_requests: checkPulls(options, options.headSha) });
  Object.assign(suite.head_commit, { id: options.headSha });
  return payload;
}

function checkPulls(options: Where & { pullRequests?: readonly CheckPullSpec[] }, headSha: string): unknown[] {
  const template = (example('check_suite', 'rerequested').check_suite as { pull_requests: Array<Record<string, any>> }).pull_requests[0]!;
  const { owner, repo } = names(options);
  return (options.pullRequests ?? []).map((spec) => {
    const pull = rewrite(template, (s) => s.replace(/Codertocat\/Hello-World/g, `${owner}/${repo}`).replace(/Hello-World/g, repo)) as Record<string, any>;
    Object.assign(pull, { number: spec.number, id: 279147000 + spec.number, url: `https://api.github.com/repos/${owner}/${repo}/pulls/${spec.number}` });
    Object.assign(pull.head, { ref: spec.head, sha: headSha });
    Object.assign(pull.base, { ref: spec.base ?? 'main' });
    return pull;
  });
}

/** The repositories an installation event lists, on the test's installation. */
export interface InstallationSpec {
  /** `owner/name` of each repository the app is installed on (or added to). */
  readonly repositories: readonly string[];
  /** Default 4242, FakeGitHub's installation. */
  readonly installationId?: number;
  /** Who installed the app; default `alice`, a User. */
  readonly sender?: string | Actor;
}

/** `installation.created`: the app installed on the selected `repositories`. */
export function installationCreatedPayload(spec: InstallationSpec): InstallationCreatedEvent {
  const payload = moveInstallation(example('installation', 'created'), spec);
  const template = (payload.repositories as unknown[] | undefined)?.[0];
  payload.repositories = spec.repositories.map((fullName, i) => repositoryRef(template, fullName, i));
  (payload.installation as Record<string, unknown>).repository_selection = 'selected';
  return payload as unknown as InstallationCreatedEvent;
}

/** `installation_repositories.added`: `repositories` added to the installation, none removed. */
export function repositoriesAddedPayload(spec: InstallationSpec): InstallationRepositoriesAddedEvent {
  const payload = moveInstallation(example('installation_repositories', 'added'), spec);
  const template = (payload.repositories_added as unknown[])[0];
  payload.repositories_added = spec.repositories.map((fullName, i) => repositoryRef(template, fullName, i));
  payload.repositories_removed = [];
  return payload as unknown as InstallationRepositoriesAddedEvent;
}

// ---- adapting GitHub's examples ----

function example(event: string, action: string): Record<string, unknown> {
  const found = definitions.find((d) => d.name === event)?.examples.find((e) => (e as { action?: string }).action === action);
  if (!found) throw new Error(`@octokit/webhooks-examples has no ${event}.${action} example`);
  return structuredClone(found) as unknown as Record<string, unknown>;
}

function names(options: Where): { owner: string; repo: string } {
  return { owner: options.owner ?? 'octo', repo: options.repo ?? 'calc' };
}

function actor(who: string | Actor | undefined, fallback: Actor = { login: 'alice', type: 'User' }): Required<Actor> {
  const a = who === undefined ? fallback : typeof who === 'string' ? { login: who } : who;
  return { login: a.login, type: a.type ?? (a.login.endsWith('[bot]') ? 'Bot' : 'User') };
}

/** Moves the whole payload to the test's repository, sender and installation. */
function adapt(payload: Record<string, unknown>, options: Where): Record<string, unknown> {
  const { owner, repo } = names(options);
  const template = payload.sender;
  const moved = rewrite(payload, (s) => s.replace(/Codertocat\/Hello-World/g, `${owner}/${repo}`)) as Record<string, unknown>;
  const repository = moved.repository as Record<string, unknown>;
  Object.assign(repository, { name: repo, full_name: `${owner}/${repo}`, owner: user(repository.owner, { login: owner, type: 'User' }) });
  delete moved.organization;
  moved.sender = user(template, actor(options.sender));
  moved.installation = { id: options.installationId ?? 4242, node_id: Buffer.from(`Installation:${options.installationId ?? 4242}`).toString('base64') };
  return moved;
}

/** An installation event moved to the test's installation id and sender (it names no repository of its own). */
function moveInstallation(payload: Record<string, unknown>, spec: InstallationSpec): Record<string, unknown> {
  const id = spec.installationId ?? 4242;
  Object.assign(payload.installation as Record<string, unknown>, { id, access_tokens_url: `https://api.github.com/app/installations/${id}/access_tokens`, html_url: `https://github.com/settings/installations/${id}` });
  payload.sender = user(payload.sender, actor(spec.sender));
  return payload;
}

/** A repository as installation events list them (the example's fields), renamed to `fullName`. */
function repositoryRef(template: Json, fullName: string, index: number): Record<string, unknown> {
  const name = fullName.split('/')[1] ?? fullName;
  const id = 186853002 + index;
  return { ...(template as object), id, node_id: Buffer.from(`Repository:${id}`).toString('base64'), name, full_name: fullName, private: false };
}

function setIssue(issue: IssuesLabeledEvent['issue'], options: Where, spec: IssueSpec): void {
  const { owner, repo } = names(options);
  const number = spec.number ?? 1;
  const moved = rewrite(issue, (s) => s.replace(new RegExp(`(${owner}/${repo}/issues)/1\\b`, 'g'), `$1/${number}`)) as typeof issue;
  Object.assign(issue, moved, {
    number,
    id: 444500040 + number,
    title: spec.title ?? 'Add a function that adds two numbers',
    body: spec.body === undefined ? 'Write `add(a, b)` in calc/add.py, with tests.' : spec.body,
    user: user(issue.user, actor(spec.author, actor(options.sender))),
    labels: (spec.labels ?? []).map((name) => labelObject(issue.labels?.[0] ?? {}, options, name)),
    state: 'open',
    assignee: null,
    assignees: [],
    milestone: null,
  });
  delete (issue as { pull_request?: unknown }).pull_request;
}

function setPull(pull: Record<string, unknown>, options: Where & { pull: PullSpec }): void {
  const spec = options.pull;
  const head = pull.head as Record<string, unknown>;
  const base = pull.base as Record<string, unknown>;
  Object.assign(pull, { number: spec.number, id: 279147000 + spec.number, state: 'open' });
  Object.assign(head, { ref: spec.head, sha: spec.headSha ?? head.sha, label: `${names(options).owner}:${spec.head}` });
  Object.assign(base, { ref: spec.base ?? 'main', label: `${names(options).owner}:${spec.base ?? 'main'}` });
}

function labelObject(template: Json, options: Where, name: string): Record<string, unknown> {
  const { owner, repo } = names(options);
  return { ...(template as object), id: 1362934389 + name.length, name, url: `https://api.github.com/repos/${owner}/${repo}/labels/${encodeURIComponent(name)}`, default: false };
}

/** A user object in the example's shape (all of GitHub's URL fields), for another login. */
function user(template: Json, who: Required<Actor>): Record<string, unknown> {
  const login = (template as { login: string }).login;
  const copy = rewrite(template, (s) => s.split(`/${login}`).join(`/${who.login}`)) as Record<string, unknown>;
  const id = [...who.login].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 1_000_000_000, 7);
  return { ...copy, login: who.login, id, node_id: Buffer.from(`User:${id}`).toString('base64'), type: who.type };
}

/** A deep copy with every string passed through `f`. */
function rewrite(value: Json, f: (s: string) => string): Json {
  if (typeof value === 'string') return f(value);
  if (Array.isArray(value)) return value.map((v) => rewrite(v, f));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, rewrite(v, f)]));
  return value;
}
