import { sign } from '@octokit/webhooks-methods';
import { createHash, generateKeyPairSync, randomBytes, verify } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import nock from 'nock';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';
import { Header, Pax } from 'tar';
import type { Permission } from '../../src/github/api.js';
import { labelRoutes } from './fake-github-labels.js';
import { checkRequest, checkResponse, exampleOf, findOperation, OpenApiViolation, type MatchedOperation } from './openapi.js';

/**
 * An in-memory GitHub behind nock on https://api.github.com: the endpoints OctokitGitHub, Probot's app
 * authentication and its config plugin use, with GitHub's rules where the bot could break them (fast-forward
 * only, one open pull request per head, 65 536-character bodies; the description itself caps annotations
 * at 50 per request and check run summaries at 65 535 characters).
 * Every request and every answer is checked against GitHub's OpenAPI description; a mismatch answers as
 * GitHub would (404, 422) or with a 500, and fails the test at `stop()`.
 */

const API = 'https://api.github.com';
const CODELOAD = 'https://codeload.github.com';
const WEB = 'https://github.com';
/** GitHub refuses issue, comment and pull request bodies longer than this. */
export const MAX_BODY_CHARS = 65_536;

export interface FakeUser {
  readonly login: string;
  readonly type: 'User' | 'Bot' | 'Organization';
}
export interface FakeIssue {
  readonly number: number;
  title: string;
  body: string | null;
  readonly author: FakeUser;
  state: 'open' | 'closed';
  labels: string[];
  readonly isPullRequest: boolean;
}
export interface FakeComment {
  readonly id: number;
  readonly issue: number;
  body: string;
  readonly author: FakeUser;
  readonly createdAt: string;
  updatedAt: string;
  /** Every body the comment had, first to last. */
  readonly history: string[];
}
export interface FakeReaction {
  readonly id: number;
  readonly on: { readonly issue: number } | { readonly comment: number };
  readonly content: string;
  readonly user: FakeUser;
}
export interface FakePull {
  readonly number: number;
  title: string;
  body: string | null;
  readonly head: string;
  base: string;
  readonly draft: boolean;
  state: 'open' | 'closed';
  /** The head branch's commit when the branch was last seen; GitHub keeps it after the branch is gone. */
  headSha: string;
}
export interface FakeAnnotation {
  readonly path: string;
  readonly start_line: number;
  readonly end_line: number;
  readonly annotation_level: string;
  readonly message: string;
  readonly [key: string]: unknown;
}
export interface FakeCheckRun {
  readonly id: number;
  name: string;
  readonly headSha: string;
  externalId: string | null;
  status: string;
  conclusion: string | null;
  output: { title: string | null; summary: string | null; text: string | null };
  /** Annotations as sent, one batch per request. */
  readonly annotationBatches: FakeAnnotation[][];
  /** The create request's body, then every update's body, as sent. */
  readonly updates: Array<Record<string, unknown>>;
  readonly startedAt: string;
  completedAt: string | null;
}
export interface FakeCommit {
  readonly sha: string;
  readonly tree: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly date: string;
  /** Who made it: the bot (through the API) unless a test pushed it as someone else. */
  readonly author: FakeUser;
}
export interface FakeRepo {
  readonly owner: string;
  readonly name: string;
  readonly id: number;
  readonly private: boolean;
  defaultBranch: string;
  /** `refs/heads/main` → commit sha. */
  readonly refs: Map<string, string>;
  readonly permissions: Map<string, Permission>;
  /** Issues and pull requests share numbers, as on GitHub; a pull request has an issue too. */
  readonly issues: Map<number, FakeIssue>;
  readonly pulls: Map<number, FakePull>;
  readonly comments: Map<number, FakeComment>;
  readonly reactions: FakeReaction[];
  readonly checkRuns: Map<number, FakeCheckRun>;
}

export interface RecordedRequest {
  readonly method: string;
  /** `https://api.github.com/repos/o/r/issues/1?x=y` */
  readonly url: string;
  /** `/repos/o/r/issues/1` (no query, percent-encoded as sent) */
  readonly path: string;
  /** GitHub's operation id (`issues/create-comment`), null for codeload or an undocumented path. */
  readonly operationId: string | null;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string>>;
  status: number;
}

export interface Fault {
  readonly method?: string;
  /** A path template (`/repos/{owner}/{repo}/issues/{issue_number}/comments`), a concrete path, or a RegExp on the path. */
  readonly pathPattern: string | RegExp;
  readonly status: number;
  readonly headers?: Record<string, string>;
  readonly body?: unknown;
  /** How many matching requests fail (default 1). */
  readonly times?: number;
}

/** GitHub's secondary rate limit as it arrives: 403, `retry-after`, and the message that names it. */
export function secondaryRateLimit(match: { method?: string; pathPattern: string | RegExp; times?: number; retryAfterSeconds?: number }): Fault {
  return {
    ...match,
    status: 403,
    headers: { 'retry-after': String(match.retryAfterSeconds ?? 1) },
    body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
  };
}

/** What a handler answers; GitHub's error answers are thrown as a Failure instead. */
interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}
class Failure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}
const notFound = () => new Failure(404, 'Not Found');
const invalid = (message: string, errors?: unknown[]) => new Failure(422, message, errors);

interface Call {
  readonly op: MatchedOperation;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
}
type Handler = (call: Call) => Reply;

export interface FakeGitHubOptions {
  /** The app whose JWTs are accepted (default: testApp()). */
  readonly app?: { readonly appId: number; readonly publicKey: string };
  readonly installationId?: number;
  /** The login the installation token writes as. */
  readonly botLogin?: string;
}

export class FakeGitHub {
  readonly requests: RecordedRequest[] = [];
  /** OpenAPI mismatches and requests the fake cannot answer; `stop()` fails the test when there are any. */
  readonly violations: string[] = [];
  /** Installation tokens handed out: no outgoing request body may contain one. */
  readonly tokens = new Set<string>();
  readonly installationId: number;
  readonly bot: FakeUser;
  private readonly app: { readonly appId: number; readonly publicKey: string };
  private readonly repos = new Map<string, FakeRepo>();
  private readonly commits = new Map<string, FakeCommit>();
  private readonly trees = new Map<string, ReadonlyMap<string, string>>();
  private readonly blobs = new Map<string, string>();
  private readonly faults: Array<Fault & { left: number }> = [];
  private readonly interceptors: nock.Interceptor[] = [];
  private readonly userIds = new Map<string, number>();
  private nextId = 1000;
  private readonly handlers: Record<string, Handler>;

  constructor(options: FakeGitHubOptions = {}) {
    this.app = options.app ?? testApp();
    this.installationId = options.installationId ?? 4242;
    this.bot = { login: options.botLogin ?? 'code4py[bot]', type: 'Bot' };
    this.handlers = this.routes();
  }

  /** Intercepts api.github.com and codeload.github.com; every other host except loopback is refused. */
  start(): this {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));
    const fake = this;
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
      const interceptor = nock(API).persist().intercept(() => true, method);
      interceptor.reply(function (uri, body) {
        return fake.handle(method, uri, body, this.req.headers);
      });
      this.interceptors.push(interceptor);
    }
    const download = nock(CODELOAD).persist().intercept(() => true, 'GET');
    download.reply((uri) => this.codeload(uri));
    this.interceptors.push(download);
    return this;
  }

  /** Removes the interceptors; throws when any request or answer broke GitHub's description. */
  stop(): void {
    for (const interceptor of this.interceptors.splice(0)) nock.removeInterceptor(interceptor);
    this.assertNoViolations();
  }

  assertNoViolations(): void {
    if (this.violations.length > 0) throw new Error(`The fake GitHub saw requests or answers that do not match GitHub's API:\n- ${this.violations.join('\n- ')}`);
  }

  /** Requests that change something on GitHub (POST, PATCH, PUT, DELETE); app authentication is not counted. */
  writes(): RecordedRequest[] {
    return this.requests.filter((r) => r.method !== 'GET' && r.operationId !== null && !r.operationId.startsWith('apps/'));
  }

  /** The next `times` requests matching `fault` get its answer instead of reaching the fake. */
  failNext(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  // ---- arranging state ----

  addRepo(spec: { owner: string; name: string; files?: Record<string, string>; defaultBranch?: string; private?: boolean }): FakeRepo {
    const repo: FakeRepo = {
      owner: spec.owner,
      name: spec.name,
      id: this.id(),
      private: spec.private ?? false,
      defaultBranch: spec.defaultBranch ?? 'main',
      refs: new Map(),
      permissions: new Map([[spec.owner, 'admin']]),
      issues: new Map(),
      pulls: new Map(),
      comments: new Map(),
      reactions: [],
      checkRuns: new Map(),
    };
    this.repos.set(key(spec.owner, spec.name), repo);
    const tree = this.storeTree(new Map(Object.entries(spec.files ?? { 'README.md': `# ${spec.name}\n` })));
    repo.refs.set(`refs/heads/${repo.defaultBranch}`, this.storeCommit(tree, [], 'Initial commit', asUser(spec.owner)));
    return repo;
  }

  repo(fullName: string): FakeRepo {
    const [owner = '', name = ''] = fullName.split('/');
    const repo = this.repos.get(key(owner, name));
    if (!repo) throw new Error(`the fake GitHub has no repository ${fullName}`);
    return repo;
  }

  setPermission(fullName: string, login: string, permission: Permission): void {
    this.repo(fullName).permissions.set(login, permission);
  }

  addIssue(fullName: string, spec: { title: string; body?: string | null; author?: string | FakeUser; labels?: string[]; state?: 'open' | 'closed' }): FakeIssue {
    const repo = this.repo(fullName);
    const issue: FakeIssue = {
      number: this.nextNumber(repo),
      title: spec.title,
      body: spec.body ?? null,
      author: asUser(spec.author ?? repo.owner),
      state: spec.state ?? 'open',
      labels: spec.labels ?? [],
      isPullRequest: false,
    };
    repo.issues.set(issue.number, issue);
    return issue;
  }

  addComment(fullName: string, issue: number, spec: { body: string; author: string | FakeUser }): FakeComment {
    return this.storeComment(this.repo(fullName), issue, spec.body, asUser(spec.author));
  }

  /**
   * Someone else pushes a commit onto `branch` (created from the default branch when missing), as `author`
   * (default `octocat`), the way `git push` does: no API request, so nothing the bot sees but the new head.
   */
  push(fullName: string, branch: string, files: Record<string, string | null>, message = 'A commit pushed by someone else', author: string | FakeUser = 'octocat'): string {
    const repo = this.repo(fullName);
    const parent = repo.refs.get(`refs/heads/${branch}`) ?? repo.refs.get(`refs/heads/${repo.defaultBranch}`)!;
    const next = new Map(this.trees.get(this.commits.get(parent)!.tree));
    for (const [path, content] of Object.entries(files)) {
      if (content === null) next.delete(path);
      else next.set(path, content);
    }
    const sha = this.storeCommit(this.storeTree(next), [parent], message, asUser(author));
    repo.refs.set(`refs/heads/${branch}`, sha);
    return sha;
  }

  branchSha(fullName: string, branch: string): string | undefined {
    return this.repo(fullName).refs.get(`refs/heads/${branch}`);
  }

  commit(sha: string): FakeCommit | undefined {
    return this.commits.get(sha);
  }

  /** The files at a branch, tag or commit sha. */
  filesAt(fullName: string, ref: string): Record<string, string> {
    const sha = this.resolve(this.repo(fullName), ref);
    if (!sha) throw new Error(`${fullName} has no ref or commit ${ref}`);
    return Object.fromEntries(this.trees.get(this.commits.get(sha)!.tree)!);
  }

  /** GitHub's tarball of the repository at `ref`: gzip, a pax header with the sha, one top folder `owner-repo-<short sha>/`. */
  tarball(fullName: string, ref: string): Buffer {
    const repo = this.repo(fullName);
    const sha = this.resolve(repo, ref);
    if (!sha) throw new Error(`${fullName} has no ref or commit ${ref}`);
    const commit = this.commits.get(sha)!;
    return buildTarball(`${repo.owner}-${repo.name}-${sha.slice(0, 7)}`, this.trees.get(commit.tree)!, sha, new Date(commit.date));
  }

  // ---- the nock side ----

  /** Answers one api.github.com request (`uri`: path and query) as the interceptors do; fake-github-http.ts serves it over real HTTP. */
  handle(method: string, uri: string, rawBody: unknown, rawHeaders: Record<string, string | string[]>): nock.ReplyFnResult {
    const headers = Object.fromEntries(Object.entries(rawHeaders).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));
    const body = parseBody(rawBody);
    const path = uri.split('?')[0] ?? uri;
    const record: RecordedRequest = { method, url: API + uri, path, operationId: null, body, headers, status: 0 };
    this.requests.push(record);
    const answer = (reply: Reply): nock.ReplyFnResult => {
      record.status = reply.status;
      const json = reply.body !== undefined && !Buffer.isBuffer(reply.body) && typeof reply.body !== 'string';
      const out: Record<string, string> = { ...(json ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'x-github-request-id': `FAKE:${this.requests.length}`, ...reply.headers };
      return [reply.status, json ? JSON.stringify(reply.body) : (reply.body as string | Buffer | undefined) ?? '', out];
    };
    const found = findOperation(method, uri);
    if ('error' in found) {
      this.violations.push(`request ${found.error}`);
      return answer(errorReply(notFound()));
    }
    Object.assign(record, { operationId: found.operationId });
    let op: MatchedOperation;
    try {
      op = checkRequest({ method, url: uri, body });
    } catch (error) {
      if (!(error instanceof OpenApiViolation)) throw error;
      this.violations.push(`request ${error.message}`);
      return answer(errorReply(invalid(`Invalid request.\n\n${error.problems.join('\n')}`)));
    }
    const reply = this.dispatch(op, new URL(uri, API).searchParams, body, headers);
    try {
      checkResponse(op, { status: reply.status, body: reply.body, contentType: reply.headers?.['content-type'] ?? 'application/json' });
    } catch (error) {
      if (!(error instanceof OpenApiViolation)) throw error;
      this.violations.push(`response ${error.message}`);
      return answer({ status: 500, body: { message: `The fake GitHub's answer does not match GitHub's API: ${error.message}` } });
    }
    return answer(reply);
  }

  private dispatch(op: MatchedOperation, query: URLSearchParams, body: unknown, headers: Record<string, string>): Reply {
    try {
      this.authenticate(op, headers);
      const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method.toUpperCase() === op.method) && matches(f.pathPattern, op));
      if (fault) {
        fault.left--;
        return { status: fault.status, headers: fault.headers ?? {}, body: fault.body ?? { message: 'A failure injected by the test', documentation_url: 'https://docs.github.com/rest' } };
      }
      const handler = this.handlers[op.operationId];
      if (!handler) throw new Failure(501, `The fake GitHub does not implement ${op.label}`);
      return handler({ op, query, body: (body ?? {}) as Record<string, unknown>, headers });
    } catch (error) {
      // A request the fake cannot answer, or a bug in it, must fail the test even when the code swallows the error.
      if (!(error instanceof Failure) || error.status >= 500) this.violations.push(`${op.label}: ${error instanceof Failure ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return errorReply(error instanceof Failure ? error : new Failure(500, `The fake GitHub failed: ${String(error)}`));
    }
  }

  private authenticate(op: MatchedOperation, headers: Record<string, string>): void {
    const [scheme = '', credential = ''] = (headers.authorization ?? '').split(' ');
    if (op.template.startsWith('/app/')) {
      if (scheme.toLowerCase() !== 'bearer' || !this.validJwt(credential)) throw new Failure(401, 'A JSON web token could not be decoded');
      return;
    }
    if (!['token', 'bearer'].includes(scheme.toLowerCase()) || !this.tokens.has(credential)) throw new Failure(401, 'Bad credentials');
  }

  private validJwt(jwt: string): boolean {
    const [header = '', payload = '', signature = ''] = jwt.split('.');
    const signed = verify('RSA-SHA256', Buffer.from(`${header}.${payload}`), this.app.publicKey, Buffer.from(signature, 'base64url'));
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8') || '{}') as { iss?: unknown; exp?: unknown };
    return signed && String(claims.iss) === String(this.app.appId) && Number(claims.exp) > Date.now() / 1000;
  }

  /** Answers one codeload.github.com request (a tarball download). */
  codeload(uri: string): nock.ReplyFnResult {
    const url = new URL(uri, CODELOAD);
    this.requests.push({ method: 'GET', url: url.href, path: url.pathname, operationId: null, body: undefined, headers: {}, status: 0 });
    const record = this.requests[this.requests.length - 1]!;
    const match = /^\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/(.+)$/.exec(url.pathname);
    const repo = match && this.repos.get(key(match[1]!, match[2]!));
    const ref = match ? decodeURIComponent(match[3]!) : '';
    if (!repo || !this.resolve(repo, ref) || (repo.private && !this.tokens.has(url.searchParams.get('token') ?? ''))) {
      record.status = 404;
      return [404, 'Not Found', { 'content-type': 'text/plain; charset=utf-8' }];
    }
    record.status = 200;
    const sha = this.resolve(repo, ref)!;
    return [200, this.tarball(`${repo.owner}/${repo.name}`, sha), { 'content-type': 'application/x-gzip', 'content-disposition': `attachment; filename=${repo.owner}-${repo.name}-${sha.slice(0, 7)}.tar.gz` }];
  }

  // ---- the endpoints, by GitHub's operation id ----

  private routes(): Record<string, Handler> {
    return {
      ...labelRoutes({ repoOf: (op) => this.repoOf(op), fail: (status, message, errors) => { throw new Failure(status, message, errors); } }),
      'apps/create-installation-access-token': ({ op }) => {
        if (Number(op.params.installation_id) !== this.installationId) throw notFound();
        const token = `ghs_${randomBytes(18).toString('hex')}`;
        this.tokens.add(token);
        const permissions = { contents: 'write', issues: 'write', pull_requests: 'write', checks: 'write', metadata: 'read' };
        return { status: 201, body: { token, expires_at: new Date(Date.now() + 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'), permissions, repository_selection: 'all' } };
      },
      'repos/get-collaborator-permission-level': ({ op }) => {
        const repo = this.repoOf(op);
        const level = repo.permissions.get(op.params.username!);
        if (level === undefined) throw new Failure(404, `${op.params.username} is not a user`);
        // `permission` folds maintain into write and triage into read; role_name keeps them.
        const permission = level === 'maintain' ? 'write' : level === 'triage' ? 'read' : level;
        return { status: 200, body: { permission, role_name: level, user: { ...this.userJson(asUser(op.params.username!)), role_name: level } } };
      },
      'issues/get': ({ op }) => ({ status: 200, body: this.issueJson(this.repoOf(op), this.issueOf(op)) }),
      'issues/list-comments': ({ op, query }) => {
        const repo = this.repoOf(op);
        const issue = this.issueOf(op);
        const all = [...repo.comments.values()].filter((c) => c.issue === issue.number).map((c) => this.commentJson(repo, c));
        return paginate(op, query, all);
      },
      'issues/create-comment': ({ op, body }) => {
        const repo = this.repoOf(op);
        const issue = this.issueOf(op);
        checkLength('body', body.body);
        return { status: 201, body: this.commentJson(repo, this.storeComment(repo, issue.number, String(body.body), this.bot)) };
      },
      'issues/update-comment': ({ op, body }) => {
        const repo = this.repoOf(op);
        const comment = repo.comments.get(Number(op.params.comment_id));
        if (!comment) throw notFound();
        checkLength('body', body.body);
        comment.body = String(body.body);
        comment.history.push(comment.body);
        comment.updatedAt = now();
        return { status: 200, body: this.commentJson(repo, comment) };
      },
      'reactions/create-for-issue-comment': ({ op, body }) => {
        const repo = this.repoOf(op);
        if (!repo.comments.has(Number(op.params.comment_id))) throw notFound();
        return this.react(repo, { comment: Number(op.params.comment_id) }, String(body.content));
      },
      'reactions/create-for-issue': ({ op, body }) => this.react(this.repoOf(op), { issue: this.issueOf(op).number }, String(body.content)),
      'repos/get': ({ op }) => ({ status: 200, body: this.repoJson(this.repoOf(op), 'full-repository') }),
      'repos/get-content': ({ op, query, headers }) => this.content(this.repoOf(op), op.params.path!, query.get('ref'), headers.accept ?? ''),
      'git/get-ref': ({ op }) => {
        const repo = this.repoOf(op);
        const ref = `refs/${op.params.ref}`;
        const sha = repo.refs.get(ref);
        if (!sha) throw notFound();
        return { status: 200, body: this.refJson(repo, ref, sha) };
      },
      'repos/download-tarball-archive': ({ op }) => {
        const repo = this.repoOf(op);
        if (!this.resolve(repo, op.params.ref!)) throw notFound();
        // Private archives are fetched with a short-lived token in the URL: the redirect drops the Authorization header.
        const token = repo.private ? `?token=${[...this.tokens].at(-1) ?? ''}` : '';
        return { status: 302, headers: { location: `${CODELOAD}/${repo.owner}/${repo.name}/legacy.tar.gz/${encodeURI(op.params.ref!)}${token}` } };
      },
      'git/get-commit': ({ op }) => {
        const repo = this.repoOf(op);
        const commit = this.commits.get(op.params.commit_sha!);
        if (!commit) throw notFound();
        return { status: 200, body: this.commitJson(repo, commit) };
      },
      'git/create-tree': ({ op, body }) => this.createTree(this.repoOf(op), body),
      'git/create-commit': ({ op, body }) => {
        const repo = this.repoOf(op);
        const tree = String(body.tree);
        if (!this.trees.has(tree)) throw invalid('Tree SHA does not exist');
        const parents = ((body.parents ?? []) as string[]).map(String);
        if (parents.some((p) => !this.commits.has(p))) throw invalid('Parent SHA does not exist or is not a commit object');
        const sha = this.storeCommit(tree, parents, String(body.message));
        return { status: 201, body: this.commitJson(repo, this.commits.get(sha)!) };
      },
      'git/create-ref': ({ op, body }) => {
        const repo = this.repoOf(op);
        const ref = String(body.ref);
        if (!/^refs\/[^/]+\/.+/.test(ref)) throw invalid("Reference name must start with 'refs/' and have at least two slashes.");
        if (!this.commits.has(String(body.sha))) throw invalid('Object does not exist');
        if (repo.refs.has(ref)) throw invalid('Reference already exists');
        repo.refs.set(ref, String(body.sha));
        return { status: 201, body: this.refJson(repo, ref, String(body.sha)) };
      },
      'git/update-ref': ({ op, body }) => {
        const repo = this.repoOf(op);
        const ref = `refs/${op.params.ref!.replace(/^refs\//, '')}`;
        const current = repo.refs.get(ref);
        const sha = String(body.sha);
        if (!current) throw invalid('Reference does not exist');
        if (!this.commits.has(sha)) throw invalid('Object does not exist');
        if (body.force !== true && !this.isAncestor(current, sha)) throw invalid('Update is not a fast forward');
        repo.refs.set(ref, sha);
        return { status: 200, body: this.refJson(repo, ref, sha) };
      },
      'pulls/list': ({ op, query }) => {
        const repo = this.repoOf(op);
        const state = query.get('state') ?? 'open';
        const head = query.get('head');
        const base = query.get('base');
        const pulls = [...repo.pulls.values()].filter(
          (p) =>
            (state === 'all' || p.state === state) &&
            // GitHub ignores a head filter without the `owner:` prefix, so such a lookup finds every pull request.
            (!head || !head.includes(':') || head.toLowerCase() === `${repo.owner}:${p.head}`.toLowerCase()) &&
            (!base || base === p.base),
        );
        return paginate(op, query, pulls.reverse().map((p) => this.pullJson(repo, p)));
      },
      'pulls/create': ({ op, body }) => this.createPull(this.repoOf(op), body),
      'pulls/get': ({ op }) => {
        const repo = this.repoOf(op);
        const pull = repo.pulls.get(Number(op.params.pull_number));
        if (!pull) throw notFound();
        return { status: 200, body: this.pullJson(repo, pull) };
      },
      'pulls/update': ({ op, body }) => {
        const repo = this.repoOf(op);
        const pull = repo.pulls.get(Number(op.params.pull_number));
        if (!pull) throw notFound();
        if (body.body !== undefined) checkLength('body', body.body);
        if (typeof body.title === 'string') pull.title = body.title;
        if (body.body !== undefined) pull.body = body.body as string | null;
        if (body.state === 'open' || body.state === 'closed') pull.state = body.state;
        if (typeof body.base === 'string') pull.base = body.base;
        const issue = repo.issues.get(pull.number)!;
        Object.assign(issue, { title: pull.title, body: pull.body, state: pull.state });
        return { status: 200, body: this.pullJson(repo, pull) };
      },
      'checks/create': ({ op, body }) => {
        const repo = this.repoOf(op);
        const headSha = String(body.head_sha);
        if (!this.commits.has(headSha)) throw invalid(`No commit found for SHA: ${headSha}`);
        const run: FakeCheckRun = {
          id: this.id(),
          name: String(body.name),
          headSha,
          externalId: (body.external_id as string | undefined) ?? null,
          status: 'queued',
          conclusion: null,
          output: { title: null, summary: null, text: null },
          annotationBatches: [],
          updates: [],
          startedAt: (body.started_at as string | undefined) ?? now(),
          completedAt: null,
        };
        this.updateCheckRun(run, body);
        repo.checkRuns.set(run.id, run);
        return { status: 201, body: this.checkRunJson(repo, run) };
      },
      'checks/update': ({ op, body }) => {
        const repo = this.repoOf(op);
        const run = repo.checkRuns.get(Number(op.params.check_run_id));
        if (!run) throw notFound();
        this.updateCheckRun(run, body);
        return { status: 200, body: this.checkRunJson(repo, run) };
      },
    };
  }

  private repoOf(op: MatchedOperation): FakeRepo {
    const repo = this.repos.get(key(op.params.owner ?? '', op.params.repo ?? ''));
    if (!repo) throw notFound();
    return repo;
  }

  private issueOf(op: MatchedOperation): FakeIssue {
    const issue = this.repoOf(op).issues.get(Number(op.params.issue_number));
    if (!issue) throw notFound();
    return issue;
  }

  private react(repo: FakeRepo, on: FakeReaction['on'], content: string): Reply {
    const same = repo.reactions.find((r) => JSON.stringify(r.on) === JSON.stringify(on) && r.content === content && r.user.login === this.bot.login);
    // GitHub answers 200 with the existing reaction when the same one is added twice.
    if (same) return { status: 200, body: this.reactionJson(same) };
    const reaction: FakeReaction = { id: this.id(), on, content, user: this.bot };
    repo.reactions.push(reaction);
    return { status: 201, body: this.reactionJson(reaction) };
  }

  private content(repo: FakeRepo, path: string, ref: string | null, accept: string): Reply {
    const sha = this.resolve(repo, ref ?? repo.defaultBranch);
    const files = sha ? this.trees.get(this.commits.get(sha)!.tree)! : new Map<string, string>();
    const text = files.get(path);
    if (text === undefined) {
      if ([...files.keys()].some((p) => p.startsWith(`${path}/`))) throw new Failure(501, `The fake GitHub does not list folders (${path})`);
      throw notFound();
    }
    if (/raw/.test(accept)) return { status: 200, body: text, headers: { 'content-type': 'text/plain; charset=utf-8' } };
    const blob = blobSha(text);
    const self = `${API}/repos/${repo.owner}/${repo.name}/contents/${path}`;
    const html = `${WEB}/${repo.owner}/${repo.name}/blob/${repo.defaultBranch}/${path}`;
    const git = `${API}/repos/${repo.owner}/${repo.name}/git/blobs/${blob}`;
    return {
      status: 200,
      body: { type: 'file', encoding: 'base64', size: Buffer.byteLength(text), name: path.split('/').pop(), path, content: Buffer.from(text).toString('base64'), sha: blob, url: self, git_url: git, html_url: html, download_url: null, _links: { self, git, html } },
    };
  }

  private createTree(repo: FakeRepo, body: Record<string, unknown>): Reply {
    const base = body.base_tree === undefined ? new Map<string, string>() : this.trees.get(String(body.base_tree));
    if (!base) throw invalid('base_tree is not a valid tree oid');
    const next = new Map(base);
    for (const entry of body.tree as Array<Record<string, unknown>>) {
      const path = String(entry.path);
      if (path.split('/').some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git')) throw invalid(`tree.path contains a malformed path component (${path})`);
      if (entry.type !== 'blob') throw new Failure(501, `The fake GitHub only writes blobs into trees (${path} is a ${String(entry.type)})`);
      if (entry.sha === null) next.delete(path);
      else if (typeof entry.content === 'string') next.set(path, entry.content);
      else if (typeof entry.sha === 'string' && this.blobs.has(entry.sha)) next.set(path, this.blobs.get(entry.sha)!);
      else throw invalid(`tree.sha ${String(entry.sha)} is not a valid blob`);
    }
    const sha = this.storeTree(next);
    const top = new Map<string, { type: string; mode: string; sha: string; size?: number }>();
    for (const [path, content] of next) {
      const [first = '', ...rest] = path.split('/');
      if (rest.length === 0) top.set(first, { type: 'blob', mode: '100644', sha: blobSha(content), size: Buffer.byteLength(content) });
      else if (!top.has(first)) top.set(first, { type: 'tree', mode: '040000', sha: treeSha(new Map([...next].filter(([p]) => p.startsWith(`${first}/`)))) });
    }
    const tree = [...top].map(([path, e]) => ({ path, ...e, url: `${API}/repos/${repo.owner}/${repo.name}/git/${e.type}s/${e.sha}` }));
    return { status: 201, body: { sha, url: `${API}/repos/${repo.owner}/${repo.name}/git/trees/${sha}`, tree, truncated: false } };
  }

  private createPull(repo: FakeRepo, body: Record<string, unknown>): Reply {
    const head = String(body.head).replace(new RegExp(`^${repo.owner}:`, 'i'), '');
    const base = String(body.base);
    if (typeof body.title !== 'string') throw invalid('Validation Failed', [{ resource: 'PullRequest', field: 'title', code: 'missing_field' }]);
    if (body.body !== undefined) checkLength('body', body.body);
    const headSha = repo.refs.get(`refs/heads/${head}`);
    const baseSha = repo.refs.get(`refs/heads/${base}`);
    if (!headSha) throw invalid('Validation Failed', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    if (!baseSha) throw invalid('Validation Failed', [{ resource: 'PullRequest', field: 'base', code: 'invalid' }]);
    if ([...repo.pulls.values()].some((p) => p.state === 'open' && p.head === head && p.base === base)) {
      throw invalid('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${repo.owner}:${head}.` }]);
    }
    if (this.isAncestor(headSha, baseSha)) throw invalid('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
    const number = this.nextNumber(repo);
    const pull: FakePull = { number, title: body.title, body: (body.body as string | undefined) ?? null, head, base, draft: body.draft === true, state: 'open', headSha };
    repo.pulls.set(number, pull);
    repo.issues.set(number, { number, title: pull.title, body: pull.body, author: this.bot, state: 'open', labels: [], isPullRequest: true });
    return { status: 201, body: this.pullJson(repo, pull) };
  }

  private updateCheckRun(run: FakeCheckRun, body: Record<string, unknown>): void {
    // The 50-annotation and 65 535-character limits are in GitHub's description, so the OpenAPI check enforces them.
    const output = body.output as { title?: string; summary?: string; text?: string; annotations?: FakeAnnotation[] } | undefined;
    const conclusion = body.conclusion as string | undefined;
    if (body.status === 'completed' && !conclusion && !run.conclusion) throw invalid('Invalid request.\n\nconclusion is required when status is completed.');
    run.updates.push(structuredClone(body));
    if (typeof body.name === 'string') run.name = body.name;
    if (typeof body.external_id === 'string') run.externalId = body.external_id;
    if (typeof body.status === 'string') run.status = body.status;
    if (conclusion) {
      run.conclusion = conclusion;
      run.status = 'completed';
      run.completedAt = (body.completed_at as string | undefined) ?? now();
    }
    if (output) {
      run.output = { title: output.title ?? run.output.title, summary: output.summary ?? run.output.summary, text: output.text ?? run.output.text };
      if (output.annotations?.length) run.annotationBatches.push(structuredClone(output.annotations));
    }
  }

  // ---- storage ----

  private id(): number {
    return this.nextId++;
  }

  private nextNumber(repo: FakeRepo): number {
    return Math.max(0, ...repo.issues.keys()) + 1;
  }

  private storeTree(files: ReadonlyMap<string, string>): string {
    const sha = treeSha(files);
    this.trees.set(sha, new Map(files));
    for (const content of files.values()) this.blobs.set(blobSha(content), content);
    return sha;
  }

  private storeCommit(tree: string, parents: readonly string[], message: string, author: FakeUser = this.bot): string {
    // The counter makes two identical commits distinct, as their timestamps would on GitHub.
    const sha = createHash('sha1').update(`commit ${tree} ${parents.join(' ')} ${this.id()}\n${message}`).digest('hex');
    this.commits.set(sha, { sha, tree, parents: [...parents], message, date: now(), author });
    return sha;
  }

  private storeComment(repo: FakeRepo, issue: number, body: string, author: FakeUser): FakeComment {
    if (!repo.issues.has(issue)) throw new Error(`${repo.owner}/${repo.name} has no issue #${issue}`);
    const at = now();
    const comment: FakeComment = { id: this.id(), issue, body, author, createdAt: at, updatedAt: at, history: [body] };
    repo.comments.set(comment.id, comment);
    return comment;
  }

  /** A branch name, a `heads/…`/`tags/…`/`refs/…` name, or a commit sha. */
  private resolve(repo: FakeRepo, ref: string): string | undefined {
    if (this.commits.has(ref)) return ref;
    return repo.refs.get(`refs/heads/${ref}`) ?? repo.refs.get(`refs/tags/${ref}`) ?? repo.refs.get(`refs/${ref.replace(/^refs\//, '')}`);
  }

  private isAncestor(ancestor: string, of: string): boolean {
    const seen = new Set<string>();
    const stack = [of];
    while (stack.length > 0) {
      const sha = stack.pop()!;
      if (sha === ancestor) return true;
      if (seen.has(sha)) continue;
      seen.add(sha);
      stack.push(...(this.commits.get(sha)?.parents ?? []));
    }
    return false;
  }

  // ---- GitHub's JSON shapes: required fields from the description's examples, state from the fake ----

  private userJson(user: FakeUser): Record<string, unknown> {
    if (!this.userIds.has(user.login)) this.userIds.set(user.login, this.id());
    const id = this.userIds.get(user.login)!;
    const web = user.type === 'Bot' ? `${WEB}/apps/${user.login.replace(/\[bot\]$/, '')}` : `${WEB}/${user.login}`;
    return { ...exampleOf('simple-user'), login: user.login, id, node_id: nodeId('User', id), type: user.type, site_admin: false, url: `${API}/users/${encodeURIComponent(user.login)}`, html_url: web };
  }

  private repoJson(repo: FakeRepo, schema: 'full-repository' | 'repository'): Record<string, unknown> {
    const full = `${repo.owner}/${repo.name}`;
    return {
      ...exampleOf(schema),
      id: repo.id,
      node_id: nodeId('Repository', repo.id),
      name: repo.name,
      full_name: full,
      owner: this.userJson(asUser(repo.owner)),
      private: repo.private,
      visibility: repo.private ? 'private' : 'public',
      html_url: `${WEB}/${full}`,
      url: `${API}/repos/${full}`,
      clone_url: `${WEB}/${full}.git`,
      default_branch: repo.defaultBranch,
      fork: false,
      archived: false,
      disabled: false,
    };
  }

  private issueJson(repo: FakeRepo, issue: FakeIssue): Record<string, unknown> {
    const base = `${API}/repos/${repo.owner}/${repo.name}`;
    const comments = [...repo.comments.values()].filter((c) => c.issue === issue.number).length;
    const id = issue.number + repo.id * 1000;
    return {
      ...exampleOf('issue'),
      id,
      node_id: nodeId('Issue', id),
      number: issue.number,
      title: issue.title,
      body: issue.body,
      user: this.userJson(issue.author),
      state: issue.state,
      labels: issue.labels.map((name, i) => ({ id: repo.id * 100 + i, node_id: nodeId('Label', i), url: `${base}/labels/${encodeURIComponent(name)}`, name, description: null, color: 'ededed', default: false })),
      comments,
      url: `${base}/issues/${issue.number}`,
      html_url: `${WEB}/${repo.owner}/${repo.name}/${issue.isPullRequest ? 'pull' : 'issues'}/${issue.number}`,
      repository_url: base,
      comments_url: `${base}/issues/${issue.number}/comments`,
      author_association: association(repo, issue.author),
      ...(issue.isPullRequest ? { pull_request: { url: `${base}/pulls/${issue.number}`, html_url: `${WEB}/${repo.owner}/${repo.name}/pull/${issue.number}`, diff_url: null, patch_url: null, merged_at: null } } : {}),
    };
  }

  private commentJson(repo: FakeRepo, comment: FakeComment): Record<string, unknown> {
    const base = `${API}/repos/${repo.owner}/${repo.name}`;
    return {
      ...exampleOf('issue-comment'),
      id: comment.id,
      node_id: nodeId('IssueComment', comment.id),
      body: comment.body,
      user: this.userJson(comment.author),
      url: `${base}/issues/comments/${comment.id}`,
      html_url: `${WEB}/${repo.owner}/${repo.name}/issues/${comment.issue}#issuecomment-${comment.id}`,
      issue_url: `${base}/issues/${comment.issue}`,
      created_at: comment.createdAt,
      updated_at: comment.updatedAt,
      author_association: association(repo, comment.author),
    };
  }

  private reactionJson(reaction: FakeReaction): Record<string, unknown> {
    return { id: reaction.id, node_id: nodeId('Reaction', reaction.id), user: this.userJson(reaction.user), content: reaction.content, created_at: now() };
  }

  private refJson(repo: FakeRepo, ref: string, sha: string): Record<string, unknown> {
    const base = `${API}/repos/${repo.owner}/${repo.name}/git`;
    return { ref, node_id: nodeId('Ref', ref), url: `${base}/${ref}`, object: { type: 'commit', sha, url: `${base}/commits/${sha}` } };
  }

  private commitJson(repo: FakeRepo, commit: FakeCommit): Record<string, unknown> {
    const base = `${API}/repos/${repo.owner}/${repo.name}/git`;
    const who = { name: commit.author.login, email: `${commit.author.login}@users.noreply.github.com`, date: commit.date };
    return {
      ...exampleOf('git-commit'),
      sha: commit.sha,
      node_id: nodeId('Commit', commit.sha),
      url: `${base}/commits/${commit.sha}`,
      html_url: `${WEB}/${repo.owner}/${repo.name}/commit/${commit.sha}`,
      author: who,
      committer: who,
      tree: { sha: commit.tree, url: `${base}/trees/${commit.tree}` },
      message: commit.message,
      parents: commit.parents.map((sha) => ({ sha, url: `${base}/commits/${sha}`, html_url: `${WEB}/${repo.owner}/${repo.name}/commit/${sha}` })),
      verification: { verified: false, reason: 'unsigned', signature: null, payload: null, verified_at: null },
    };
  }

  private pullJson(repo: FakeRepo, pull: FakePull): Record<string, unknown> {
    pull.headSha = repo.refs.get(`refs/heads/${pull.head}`) ?? pull.headSha;
    const base = `${API}/repos/${repo.owner}/${repo.name}`;
    const web = `${WEB}/${repo.owner}/${repo.name}/pull/${pull.number}`;
    const side = (ref: string, sha: string) => ({ label: `${repo.owner}:${ref}`, ref, sha, user: this.userJson(asUser(repo.owner)), repo: this.repoJson(repo, 'repository') });
    const id = pull.number + repo.id * 1000;
    const link = (href: string) => ({ href });
    return {
      ...exampleOf('pull-request'),
      id,
      node_id: nodeId('PullRequest', id),
      number: pull.number,
      title: pull.title,
      body: pull.body,
      state: pull.state,
      draft: pull.draft,
      locked: false,
      user: this.userJson(this.bot),
      url: `${base}/pulls/${pull.number}`,
      html_url: web,
      diff_url: `${web}.diff`,
      patch_url: `${web}.patch`,
      issue_url: `${base}/issues/${pull.number}`,
      head: side(pull.head, pull.headSha),
      base: side(pull.base, repo.refs.get(`refs/heads/${pull.base}`) ?? ''),
      merged: false,
      merged_at: null,
      author_association: 'NONE',
      _links: { self: link(`${base}/pulls/${pull.number}`), html: link(web), issue: link(`${base}/issues/${pull.number}`), comments: link(`${base}/issues/${pull.number}/comments`), review_comments: link(`${base}/pulls/${pull.number}/comments`), review_comment: link(`${base}/pulls/comments{/number}`), commits: link(`${base}/pulls/${pull.number}/commits`), statuses: link(`${base}/statuses/${pull.headSha}`) },
    };
  }

  private checkRunJson(repo: FakeRepo, run: FakeCheckRun): Record<string, unknown> {
    const base = `${API}/repos/${repo.owner}/${repo.name}`;
    const annotations = run.annotationBatches.reduce((n, batch) => n + batch.length, 0);
    return {
      ...exampleOf('check-run'),
      id: run.id,
      node_id: nodeId('CheckRun', run.id),
      name: run.name,
      head_sha: run.headSha,
      external_id: run.externalId,
      status: run.status,
      conclusion: run.conclusion,
      started_at: run.startedAt,
      completed_at: run.completedAt,
      url: `${base}/check-runs/${run.id}`,
      html_url: `${WEB}/${repo.owner}/${repo.name}/runs/${run.id}`,
      details_url: `${WEB}/${repo.owner}/${repo.name}/runs/${run.id}`,
      output: { ...run.output, annotations_count: annotations, annotations_url: `${base}/check-runs/${run.id}/annotations` },
      check_suite: { id: run.id + 1 },
      app: { ...exampleOf('integration'), id: this.app.appId, slug: this.bot.login.replace(/\[bot\]$/, ''), name: 'Code4Py', owner: this.userJson(asUser(repo.owner)) },
      pull_requests: [],
    };
  }
}

// ---- helpers without state ----

function key(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

function asUser(user: string | FakeUser): FakeUser {
  return typeof user === 'string' ? { login: user, type: user.endsWith('[bot]') ? 'Bot' : 'User' } : user;
}

function association(repo: FakeRepo, user: FakeUser): string {
  if (user.login === repo.owner) return 'OWNER';
  return repo.permissions.has(user.login) && repo.permissions.get(user.login) !== 'none' ? 'COLLABORATOR' : 'NONE';
}

function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`${kind}:${id}`).toString('base64');
}

/** Git's own blob id, so a sha the fake hands out is the one git would compute. */
function blobSha(content: string): string {
  return createHash('sha1').update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest('hex');
}

/** Equal trees get equal shas, as in git (though not git's bytes). */
function treeSha(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha1').update('tree\0');
  for (const path of [...files.keys()].sort()) hash.update(`${path}\0${blobSha(files.get(path)!)}\n`);
  return hash.digest('hex');
}

function parseBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw === null ? undefined : raw;
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

function checkLength(field: string, value: unknown): void {
  if (typeof value === 'string' && value.length > MAX_BODY_CHARS) {
    throw invalid('Validation Failed', [{ resource: 'Issue', code: 'custom', field, message: `${field} is too long (maximum is ${MAX_BODY_CHARS} characters)` }]);
  }
}

function errorReply(failure: Failure): Reply {
  const body = { message: failure.message, documentation_url: 'https://docs.github.com/rest', ...(failure.errors ? { errors: failure.errors } : {}), status: String(failure.status) };
  return { status: failure.status, body };
}

function matches(pattern: string | RegExp, op: MatchedOperation): boolean {
  if (pattern instanceof RegExp) return pattern.test(concretePath(op));
  return pattern === op.template || pattern === concretePath(op);
}

function concretePath(op: MatchedOperation): string {
  return op.template.replace(/\{(\w+)\}/g, (_, name: string) => op.params[name] ?? '');
}

/** `per_page`/`page` with GitHub's Link header, so `octokit.paginate` walks the pages. */
function paginate(op: MatchedOperation, query: URLSearchParams, items: unknown[]): Reply {
  const perPage = Math.min(Number(query.get('per_page') ?? 30), 100);
  const page = Number(query.get('page') ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const url = (n: number) => {
    const q = new URLSearchParams(query);
    q.set('page', String(n));
    return `<${API}${concretePath(op).split('/').map(encodeURIComponent).join('/')}?${q}>`;
  };
  const links = page < last ? [`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`] : [];
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}

/** A tar.gz as GitHub's codeload sends it: a global pax header naming the commit, then folders and files. */
function buildTarball(top: string, files: ReadonlyMap<string, string>, sha: string, mtime: Date): Buffer {
  const blocks: Buffer[] = [new Pax({ comment: sha, path: 'pax_global_header' }, true).encode()];
  const entry = (path: string, type: 'Directory' | 'File', content?: Buffer) => {
    const header = new Header({ path, type, mode: type === 'File' ? 0o644 : 0o755, size: content?.length ?? 0, mtime, uid: 0, gid: 0, uname: 'root', gname: 'root' });
    if (header.encode()) blocks.push(new Pax({ path, size: content?.length ?? 0, mtime }).encode());
    blocks.push(header.block!);
    if (content) blocks.push(content, Buffer.alloc((512 - (content.length % 512)) % 512));
  };
  const folders = new Set<string>();
  entry(`${top}/`, 'Directory');
  for (const path of [...files.keys()].sort()) {
    const parts = path.split('/');
    for (let i = 1; i < parts.length; i++) {
      const folder = parts.slice(0, i).join('/');
      if (!folders.has(folder)) {
        folders.add(folder);
        entry(`${top}/${folder}/`, 'Directory');
      }
    }
    entry(`${top}/${path}`, 'File', Buffer.from(files.get(path)!));
  }
  blocks.push(Buffer.alloc(1024));
  return gzipSync(Buffer.concat(blocks));
}

// ---- a Probot wired to the fake ----

export const TEST_WEBHOOK_SECRET = 'test-secret';

let credentials: { appId: number; privateKey: string; publicKey: string } | undefined;

/** A test app: id 1 and a fresh RSA key (PKCS#1 PEM, as GitHub hands them out), made once per test file. */
export function testApp(): { readonly appId: number; readonly privateKey: string; readonly publicKey: string } {
  if (!credentials) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    credentials = { appId: 1, privateKey, publicKey };
  }
  return credentials;
}

/**
 * A Probot that authenticates as testApp(), with Octokit's own retries and throttling off so tests see
 * every request and do not wait a second per write.
 */
export function createTestProbot(): Probot {
  const { appId, privateKey } = testApp();
  return new Probot({
    appId,
    privateKey,
    secret: TEST_WEBHOOK_SECRET,
    // A function, not an object: Probot layers its own throttle options over static defaults, which would
    // switch throttling back on; this runs after Probot's layer and wins.
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      retry: { enabled: false },
      throttle: { ...(options.throttle as object | undefined), enabled: false },
    })),
    log: pino({ level: 'silent' }),
  });
}

/** Delivers a webhook the way GitHub does: the JSON text signed with the webhook secret, then verified by Probot. */
export async function deliverWebhook(probot: Probot, event: { name: string; payload: object; id?: string }): Promise<void> {
  const payload = JSON.stringify(event.payload);
  await probot.webhooks.verifyAndReceive({ id: event.id ?? randomBytes(8).toString('hex'), name: event.name, payload, signature: await sign(TEST_WEBHOOK_SECRET, payload) });
}
