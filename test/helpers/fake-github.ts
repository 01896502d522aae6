import nock from 'nock';
import type { Permission } from '../../src/github/api.js';
import { authRoutes } from './fake-github/auth.js';
import { checkRoutes } from './fake-github/checks.js';
import { RequestCore } from './fake-github/core.js';
import { gitRoutes } from './fake-github/git.js';
import { issueRoutes } from './fake-github/issues.js';
import { API, CODELOAD, type Fault, type FakeAppKey, type FakeComment, type FakeCommit, type FakeIssue, type FakeRepo, type FakeUser, type RecordedRequest } from './fake-github/model.js';
import { testApp } from './fake-github/probot.js';
import { pullRoutes } from './fake-github/pulls.js';
import { answerCodeload, repoRoutes, repoTarball } from './fake-github/repos.js';
import { asUser, FakeStore, repoKey } from './fake-github/store.js';
import { Failure } from './fake-github/replies.js';
import { labelRoutes } from './fake-github-labels.js';

export { secondaryRateLimit } from './fake-github/core.js';
export { MAX_BODY_CHARS } from './fake-github/model.js';
export type { FakeAnnotation, FakeCheckRun, FakeComment, FakeCommit, FakeIssue, FakePull, FakeReaction, FakeRepo, FakeUser, Fault, RecordedRequest } from './fake-github/model.js';
export { createTestProbot, deliverWebhook, testApp, TEST_WEBHOOK_SECRET } from './fake-github/probot.js';

/**
 * An in-memory GitHub behind nock on https://api.github.com: the endpoints OctokitGitHub, Probot's app
 * authentication and its config plugin use, with GitHub's rules where the bot could break them (fast-forward
 * only, one open pull request per head, 65 536-character bodies; the description itself caps annotations
 * at 50 per request and check run summaries at 65 535 characters).
 * Every request and every answer is checked against GitHub's OpenAPI description; a mismatch answers as
 * GitHub would (404, 422) or with a 500, and fails the test at `stop()`.
 *
 * This class arranges and inspects state; the endpoints live in fake-github/, one module per resource.
 */

export interface FakeGitHubOptions {
  /** The app whose JWTs are accepted (default: testApp()). */
  readonly app?: FakeAppKey;
  readonly installationId?: number;
  /** The login the installation token writes as. */
  readonly botLogin?: string;
}

export class FakeGitHub {
  readonly requests: RecordedRequest[];
  /** OpenAPI mismatches and requests the fake cannot answer; `stop()` fails the test when there are any. */
  readonly violations: string[];
  /** Installation tokens handed out: no outgoing request body may contain one. */
  readonly tokens: Set<string>;
  readonly installationId: number;
  readonly bot: FakeUser;
  private readonly store: FakeStore;
  private readonly core: RequestCore;
  private readonly interceptors: nock.Interceptor[] = [];

  constructor(options: FakeGitHubOptions = {}) {
    this.installationId = options.installationId ?? 4242;
    this.bot = { login: options.botLogin ?? 'code4py[bot]', type: 'Bot' };
    this.store = new FakeStore(options.app ?? testApp(), this.installationId, this.bot);
    ({ requests: this.requests, violations: this.violations, tokens: this.tokens } = this.store);
    const labels = labelRoutes({
      repoOf: (op) => this.store.repoOf(op),
      fail: (status, message, errors) => {
        throw new Failure(status, message, errors);
      },
    });
    const routes = { ...authRoutes(this.store), ...repoRoutes(this.store), ...issueRoutes(this.store), ...gitRoutes(this.store), ...pullRoutes(this.store), ...checkRoutes(this.store), ...labels };
    this.core = new RequestCore(this.store, routes);
  }

  /** Intercepts api.github.com and codeload.github.com; every other host except loopback is refused. */
  start(): this {
    nock.disableNetConnect();
    nock.enableNetConnect((host) => /^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/.test(host));
    const core = this.core;
    for (const method of ['GET', 'POST', 'PATCH', 'PUT', 'DELETE']) {
      const interceptor = nock(API).persist().intercept(() => true, method);
      interceptor.reply(function (uri, body) {
        return core.handle(method, uri, body, this.req.headers);
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
    this.core.failNext(fault);
  }

  /** Answers one api.github.com request (`uri`: path and query) as the interceptors do; fake-github-http.ts serves it over real HTTP. */
  handle(method: string, uri: string, rawBody: unknown, rawHeaders: Record<string, string | string[]>): nock.ReplyFnResult {
    return this.core.handle(method, uri, rawBody, rawHeaders);
  }

  /** Answers one codeload.github.com request (a tarball download). */
  codeload(uri: string): nock.ReplyFnResult {
    return answerCodeload(this.store, uri);
  }

  // ---- arranging state ----

  addRepo(spec: { owner: string; name: string; files?: Record<string, string>; defaultBranch?: string; private?: boolean }): FakeRepo {
    const repo: FakeRepo = {
      owner: spec.owner,
      name: spec.name,
      id: this.store.id(),
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
    this.store.repos.set(repoKey(spec.owner, spec.name), repo);
    const tree = this.store.storeTree(new Map(Object.entries(spec.files ?? { 'README.md': `# ${spec.name}\n` })));
    repo.refs.set(`refs/heads/${repo.defaultBranch}`, this.store.storeCommit(tree, [], 'Initial commit', asUser(spec.owner)));
    return repo;
  }

  repo(fullName: string): FakeRepo {
    const [owner = '', name = ''] = fullName.split('/');
    const repo = this.store.findRepo(owner, name);
    if (!repo) throw new Error(`the fake GitHub has no repository ${fullName}`);
    return repo;
  }

  setPermission(fullName: string, login: string, permission: Permission): void {
    this.repo(fullName).permissions.set(login, permission);
  }

  addIssue(fullName: string, spec: { title: string; body?: string | null; author?: string | FakeUser; labels?: string[]; state?: 'open' | 'closed' }): FakeIssue {
    const repo = this.repo(fullName);
    const issue: FakeIssue = {
      number: this.store.nextNumber(repo),
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
    return this.store.storeComment(this.repo(fullName), issue, spec.body, asUser(spec.author));
  }

  /**
   * Someone else pushes a commit onto `branch` (created from the default branch when missing), as `author`
   * (default `octocat`), the way `git push` does: no API request, so nothing the bot sees but the new head.
   */
  push(fullName: string, branch: string, files: Record<string, string | null>, message = 'A commit pushed by someone else', author: string | FakeUser = 'octocat'): string {
    const repo = this.repo(fullName);
    const parent = repo.refs.get(`refs/heads/${branch}`) ?? repo.refs.get(`refs/heads/${repo.defaultBranch}`)!;
    const next = new Map(this.store.filesOf(parent));
    for (const [path, content] of Object.entries(files)) {
      if (content === null) next.delete(path);
      else next.set(path, content);
    }
    const sha = this.store.storeCommit(this.store.storeTree(next), [parent], message, asUser(author));
    repo.refs.set(`refs/heads/${branch}`, sha);
    return sha;
  }

  branchSha(fullName: string, branch: string): string | undefined {
    return this.repo(fullName).refs.get(`refs/heads/${branch}`);
  }

  commit(sha: string): FakeCommit | undefined {
    return this.store.commits.get(sha);
  }

  /** The files at a branch, tag or commit sha. */
  filesAt(fullName: string, ref: string): Record<string, string> {
    const sha = this.store.resolve(this.repo(fullName), ref);
    if (!sha) throw new Error(`${fullName} has no ref or commit ${ref}`);
    return Object.fromEntries(this.store.filesOf(sha));
  }

  /** GitHub's tarball of the repository at `ref`: gzip, a pax header with the sha, one top folder `owner-repo-<short sha>/`. */
  tarball(fullName: string, ref: string): Buffer {
    return repoTarball(this.store, this.repo(fullName), ref);
  }
}
