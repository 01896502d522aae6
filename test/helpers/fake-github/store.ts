import { createHash } from 'node:crypto';
import { ancestors, mergeBase } from '../commit-graph.js';
import { exampleOf, type MatchedOperation } from '../openapi.js';
import { API, WEB, type FakeAppKey, type FakeComment, type FakeCommit, type FakeIssue, type FakeRepo, type FakeUser, type RecordedRequest } from './model.js';
import { notFound } from './replies.js';

/**
 * Everything the fake GitHub remembers (repositories, git objects, tokens, the requests it saw) and the
 * lookups every resource shares. The resource modules read and change it; none of them knows the others.
 */
export class FakeStore {
  readonly requests: RecordedRequest[] = [];
  /** OpenAPI mismatches and requests the fake cannot answer; `stop()` fails the test when there are any. */
  readonly violations: string[] = [];
  /** Installation tokens handed out: no outgoing request body may contain one. */
  readonly tokens = new Set<string>();
  readonly repos = new Map<string, FakeRepo>();
  readonly commits = new Map<string, FakeCommit>();
  readonly trees = new Map<string, ReadonlyMap<string, string>>();
  readonly blobs = new Map<string, string>();
  private readonly userIds = new Map<string, number>();
  private nextId = 1000;

  constructor(
    readonly app: FakeAppKey,
    readonly installationId: number,
    readonly bot: FakeUser,
  ) {}

  id(): number {
    return this.nextId++;
  }

  nextNumber(repo: FakeRepo): number {
    return Math.max(0, ...repo.issues.keys()) + 1;
  }

  findRepo(owner: string, name: string): FakeRepo | undefined {
    return this.repos.get(repoKey(owner, name));
  }

  repoOf(op: MatchedOperation): FakeRepo {
    const repo = this.findRepo(op.params.owner ?? '', op.params.repo ?? '');
    if (!repo) throw notFound();
    return repo;
  }

  issueOf(op: MatchedOperation): FakeIssue {
    const issue = this.repoOf(op).issues.get(Number(op.params.issue_number));
    if (!issue) throw notFound();
    return issue;
  }

  /** The files of a commit. */
  filesOf(sha: string): ReadonlyMap<string, string> {
    return this.trees.get(this.commits.get(sha)!.tree)!;
  }

  storeTree(files: ReadonlyMap<string, string>): string {
    const sha = treeSha(files);
    this.trees.set(sha, new Map(files));
    for (const content of files.values()) this.blobs.set(blobSha(content), content);
    return sha;
  }

  storeCommit(tree: string, parents: readonly string[], message: string, author: FakeUser = this.bot): string {
    // The counter makes two identical commits distinct, as their timestamps would on GitHub.
    const sha = createHash('sha1').update(`commit ${tree} ${parents.join(' ')} ${this.id()}\n${message}`).digest('hex');
    this.commits.set(sha, { sha, tree, parents: [...parents], message, date: now(), author });
    return sha;
  }

  storeComment(repo: FakeRepo, issue: number, body: string, author: FakeUser): FakeComment {
    if (!repo.issues.has(issue)) throw new Error(`${repo.owner}/${repo.name} has no issue #${issue}`);
    const at = now();
    const comment: FakeComment = { id: this.id(), issue, body, author, createdAt: at, updatedAt: at, history: [body] };
    repo.comments.set(comment.id, comment);
    return comment;
  }

  /** A branch name, a `heads/…`/`tags/…`/`refs/…` name, or a commit sha. */
  resolve(repo: FakeRepo, ref: string): string | undefined {
    if (this.commits.has(ref)) return ref;
    return repo.refs.get(`refs/heads/${ref}`) ?? repo.refs.get(`refs/tags/${ref}`) ?? repo.refs.get(`refs/${ref.replace(/^refs\//, '')}`);
  }

  isAncestor(ancestor: string, of: string): boolean {
    return this.ancestors(of).has(ancestor);
  }

  /** Every commit reachable from `sha`, itself included. */
  ancestors(sha: string): Set<string> {
    return ancestors(this.parentsOf, sha);
  }

  /** git's merge base: a common ancestor of both that no other common ancestor descends from; undefined when unrelated. */
  mergeBase(a: string, b: string): string | undefined {
    return mergeBase(this.parentsOf, a, b);
  }

  private readonly parentsOf = (sha: string): readonly string[] => this.commits.get(sha)?.parents ?? [];

  /** GitHub's `simple-user`, with one stable id per login. */
  userJson(user: FakeUser): Record<string, unknown> {
    if (!this.userIds.has(user.login)) this.userIds.set(user.login, this.id());
    const id = this.userIds.get(user.login)!;
    const web = user.type === 'Bot' ? `${WEB}/apps/${user.login.replace(/\[bot\]$/, '')}` : `${WEB}/${user.login}`;
    return { ...exampleOf('simple-user'), login: user.login, id, node_id: nodeId('User', id), type: user.type, site_admin: false, url: `${API}/users/${encodeURIComponent(user.login)}`, html_url: web };
  }
}

export function repoKey(owner: string, name: string): string {
  return `${owner}/${name}`.toLowerCase();
}

export function asUser(user: string | FakeUser): FakeUser {
  return typeof user === 'string' ? { login: user, type: user.endsWith('[bot]') ? 'Bot' : 'User' } : user;
}

export function association(repo: FakeRepo, user: FakeUser): string {
  if (user.login === repo.owner) return 'OWNER';
  return repo.permissions.has(user.login) && repo.permissions.get(user.login) !== 'none' ? 'COLLABORATOR' : 'NONE';
}

export function now(): string {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

export function nodeId(kind: string, id: number | string): string {
  return Buffer.from(`${kind}:${id}`).toString('base64');
}

/** Git's own blob id, so a sha the fake hands out is the one git would compute. */
export function blobSha(content: string): string {
  return createHash('sha1').update(`blob ${Buffer.byteLength(content)}\0`).update(content).digest('hex');
}

/** Equal trees get equal shas, as in git (though not git's bytes). */
export function treeSha(files: ReadonlyMap<string, string>): string {
  const hash = createHash('sha1').update('tree\0');
  for (const path of [...files.keys()].sort()) hash.update(`${path}\0${blobSha(files.get(path)!)}\n`);
  return hash.digest('hex');
}
