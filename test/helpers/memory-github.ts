import { create as createTar } from 'tar';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { CheckRunOutput, CommentData, GitHubApi, IssueData, Permission, PullRequestData, PullRequestDetails } from '../../src/github/api.js';
import { GitHubApiError } from '../../src/github/errors.js';
import { mergeBase } from './commit-graph.js';

interface Commit {
  readonly tree: Map<string, string>;
  readonly parents: readonly string[];
  readonly message: string;
}

/**
 * GitHubApi in memory, for unit tests of the pipeline: one repository with a default branch, issues,
 * comments, refs, commits, pull requests and check runs. Every write is counted in `writes`.
 */
export class MemoryGitHub implements GitHubApi {
  readonly owner = 'octo';
  readonly repo = 'calc';
  readonly writes: string[] = [];
  readonly permissions = new Map<string, Permission>();
  readonly issues = new Map<number, IssueData>();
  readonly comments = new Map<number, CommentData & { issue: number }>();
  readonly reactions: string[] = [];
  readonly refs = new Map<string, string>();
  readonly commits = new Map<string, Commit>();
  readonly trees = new Map<string, Map<string, string>>();
  readonly pulls: Array<PullRequestData & { title: string; body: string; head: string; base: string; draft: boolean }> = [];
  readonly checkRuns = new Map<number, { name: string; headSha: string; externalId: string; updates: Array<{ status?: string; conclusion?: string; output?: CheckRunOutput }> }>();
  private next = 1;

  constructor(files: Record<string, string>) {
    const sha = this.sha();
    this.commits.set(sha, { tree: new Map(Object.entries(files)), parents: [], message: 'initial' });
    this.refs.set('main', sha);
  }

  private sha(): string {
    return (this.next++).toString(16).padStart(40, '0');
  }

  private write(what: string): void {
    this.writes.push(what);
  }

  async permissionOf(username: string): Promise<Permission> {
    return this.permissions.get(username) ?? 'none';
  }
  async getIssue(number: number): Promise<IssueData> {
    const issue = this.issues.get(number);
    if (!issue) throw new GitHubApiError(`no issue #${number}`, 404);
    return issue;
  }
  async listComments(number: number): Promise<CommentData[]> {
    return [...this.comments.values()].filter((c) => c.issue === number);
  }
  async reactToComment(commentId: number, content: string): Promise<void> {
    this.write('reaction');
    this.reactions.push(`comment ${commentId} ${content}`);
  }
  async reactToIssue(number: number, content: string): Promise<void> {
    this.write('reaction');
    this.reactions.push(`issue ${number} ${content}`);
  }
  async createComment(issue: number, body: string): Promise<number> {
    this.write('comment');
    const id = this.next++;
    this.comments.set(id, { id, issue, author: 'code4py[bot]', authorIsBot: true, body });
    return id;
  }
  async updateComment(commentId: number, body: string): Promise<void> {
    this.write('comment edit');
    const comment = this.comments.get(commentId);
    if (!comment) throw new GitHubApiError('no such comment', 404);
    this.comments.set(commentId, { ...comment, body });
  }
  async defaultBranch(): Promise<{ name: string; sha: string }> {
    return { name: 'main', sha: this.refs.get('main')! };
  }
  async branchSha(branch: string): Promise<string | null> {
    return this.refs.get(branch) ?? null;
  }
  async mergeBase(base: string, head: string): Promise<string> {
    const [a, b] = [this.refs.get(base) ?? base, this.refs.get(head) ?? head];
    if (!this.commits.has(a) || !this.commits.has(b)) throw new GitHubApiError(`no commit ${this.commits.has(a) ? head : base}`, 404);
    const best = mergeBase((sha) => this.commits.get(sha)?.parents ?? [], a, b);
    if (!best) throw new GitHubApiError(`${base} and ${head} have no common ancestor`, 404);
    return best;
  }
  async downloadTarball(ref: string): Promise<Buffer> {
    const commit = this.commits.get(this.refs.get(ref) ?? ref);
    if (!commit) throw new GitHubApiError(`no ref ${ref}`, 404);
    const dir = await mkdtemp(join(tmpdir(), 'code4py-memgh-'));
    try {
      const top = `${this.owner}-${this.repo}-${ref.slice(0, 7)}`;
      for (const [path, content] of commit.tree) {
        await mkdir(dirname(join(dir, top, path)), { recursive: true });
        await writeFile(join(dir, top, path), content);
      }
      const chunks: Buffer[] = [];
      const stream = createTar({ gzip: true, cwd: dir, portable: true }, [top]);
      for await (const chunk of stream as AsyncIterable<Buffer>) chunks.push(chunk);
      return Buffer.concat(chunks);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
  async commitTree(sha: string): Promise<string> {
    const commit = this.commits.get(sha);
    if (!commit) throw new GitHubApiError(`no commit ${sha}`, 404);
    const id = `tree-${sha}`;
    this.trees.set(id, commit.tree);
    return id;
  }
  async createTree(baseTree: string, files: ReadonlyArray<{ path: string; content: string }>): Promise<string> {
    this.write('tree');
    const tree = new Map(this.trees.get(baseTree) ?? []);
    for (const f of files) tree.set(f.path, f.content);
    const id = `tree-${this.sha()}`;
    this.trees.set(id, tree);
    return id;
  }
  async createCommit(message: string, tree: string, parents: readonly string[]): Promise<string> {
    this.write('commit');
    const sha = this.sha();
    this.commits.set(sha, { tree: new Map(this.trees.get(tree)), parents, message });
    return sha;
  }
  async createBranch(branch: string, sha: string): Promise<void> {
    this.write('ref');
    if (this.refs.has(branch)) throw new GitHubApiError('Reference already exists', 422);
    this.refs.set(branch, sha);
  }
  async updateBranch(branch: string, sha: string): Promise<void> {
    this.write('ref');
    const current = this.refs.get(branch);
    if (current && !this.commits.get(sha)?.parents.includes(current)) throw new GitHubApiError('Update is not a fast forward', 422);
    this.refs.set(branch, sha);
  }
  async getPullRequest(number: number): Promise<PullRequestDetails> {
    const pull = this.pulls.find((p) => p.number === number);
    if (!pull) throw new GitHubApiError(`no pull request #${number}`, 404);
    return { ...pull, headSha: this.refs.get(pull.head)!, headRef: pull.head, baseRef: pull.base };
  }

  /** Someone else pushes a commit to a branch. */
  pushAs(branch: string, files: Record<string, string>, message = 'A human commit'): string {
    const parent = this.refs.get(branch)!;
    const tree = new Map(this.commits.get(parent)!.tree);
    for (const [path, content] of Object.entries(files)) tree.set(path, content);
    const sha = this.sha();
    this.commits.set(sha, { tree, parents: [parent], message });
    this.refs.set(branch, sha);
    return sha;
  }

  async findPullRequest(branch: string): Promise<PullRequestData | null> {
    return this.pulls.find((p) => p.head === branch && p.state === 'open') ?? null;
  }
  async createPullRequest(input: { title: string; body: string; head: string; base: string; draft: boolean }): Promise<PullRequestData> {
    this.write('pull request');
    const number = 100 + this.pulls.length;
    const pull = { ...input, number, url: `https://github.com/${this.owner}/${this.repo}/pull/${number}`, state: 'open' as const, headSha: this.refs.get(input.head)! };
    this.pulls.push(pull);
    return pull;
  }
  async updatePullRequest(number: number, input: { title?: string; body?: string }): Promise<void> {
    this.write('pull request edit');
    const pull = this.pulls.find((p) => p.number === number)!;
    Object.assign(pull, input);
  }
  async createCheckRun(input: { name: string; headSha: string; externalId: string; status: 'queued' | 'in_progress'; output?: CheckRunOutput }): Promise<{ id: number; url: string }> {
    this.write('check run');
    const id = this.next++;
    this.checkRuns.set(id, { name: input.name, headSha: input.headSha, externalId: input.externalId, updates: [{ status: input.status }] });
    return { id, url: `https://github.com/${this.owner}/${this.repo}/runs/${id}` };
  }
  async updateCheckRun(id: number, input: { status?: 'in_progress' | 'completed'; conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled'; output?: CheckRunOutput }): Promise<void> {
    this.write('check run update');
    this.checkRuns.get(id)!.updates.push(input);
  }

  /** The files at the head of a branch. */
  filesAt(branch: string): Map<string, string> {
    return this.commits.get(this.refs.get(branch)!)!.tree;
  }
}
