import type { ProbotOctokit } from 'probot';
import { z } from 'zod';
import type { CheckRunOutput, CommentData, GitHubApi, IssueData, Permission, PullRequestData, PullRequestDetails } from './api.js';
import { callGitHub } from './call.js';
import { GitHubApiError } from './errors.js';

type Octokit = InstanceType<typeof ProbotOctokit>;

const User = z.object({ login: z.string(), type: z.string().optional() }).nullable();
const Issue = z.object({ number: z.number(), title: z.string(), body: z.string().nullable().optional(), user: User, state: z.enum(['open', 'closed']) });
const Comment = z.object({ id: z.number(), body: z.string().optional().nullable(), user: User });
const Pull = z.object({ number: z.number(), html_url: z.string(), state: z.enum(['open', 'closed']), head: z.object({ sha: z.string() }) });
const Sha = z.object({ sha: z.string() });

/**
 * GitHubApi on Probot's Octokit, which already retries transient errors and paces requests (with the
 * throttling options main.ts gives it, secondary rate limits are waited out too). Every response field
 * used is parsed here, at the edge; every failure becomes a GitHubApiError that says what was being done.
 */
export class OctokitGitHub implements GitHubApi {
  constructor(
    private readonly octokit: Octokit,
    readonly owner: string,
    readonly repo: string,
    private readonly options: { secondaryRetries: number; maxWaitMs: number } = { secondaryRetries: 3, maxWaitMs: 120_000 },
  ) {}

  private get ref() {
    return { owner: this.owner, repo: this.repo };
  }

  /** Runs one request: secondary rate limits waited out, failures said as what was being done (src/github/call.ts). */
  private call<T, M = never>(what: string, fn: () => Promise<T>, ifMissing?: M): Promise<T | M> {
    return callGitHub(what, fn, { ...(ifMissing !== undefined ? { ifMissing } : {}), secondaryRetries: this.options.secondaryRetries, maxWaitMs: this.options.maxWaitMs });
  }

  async permissionOf(username: string): Promise<Permission> {
    // GitHub answers 404 for someone who is not a collaborator at all.
    const data = await this.call(`reading ${username}'s permission`, () => this.octokit.rest.repos.getCollaboratorPermissionLevel({ ...this.ref, username }).then((r) => r.data), null);
    if (data === null) return 'none';
    const permission = z.object({ permission: z.string(), role_name: z.string().optional() }).parse(data);
    // role_name carries triage and maintain, which `permission` folds into read and write.
    const role = z.enum(['admin', 'maintain', 'write', 'triage', 'read', 'none']).safeParse(permission.role_name);
    if (role.success) return role.data;
    return z.enum(['admin', 'write', 'read', 'none']).catch('none').parse(permission.permission);
  }

  async getIssue(number: number): Promise<IssueData> {
    const { data } = await this.call(`reading issue #${number}`, () => this.octokit.rest.issues.get({ ...this.ref, issue_number: number }));
    const issue = Issue.parse(data);
    return { number: issue.number, title: issue.title, body: issue.body ?? '', author: issue.user?.login ?? 'ghost', state: issue.state };
  }

  async listComments(number: number): Promise<CommentData[]> {
    const data = await this.call(`reading the comments of #${number}`, () =>
      this.octokit.paginate(this.octokit.rest.issues.listComments, { ...this.ref, issue_number: number, per_page: 100 }),
    );
    return z
      .array(Comment)
      .parse(data)
      .map((c) => ({ id: c.id, author: c.user?.login ?? 'ghost', authorIsBot: c.user?.type === 'Bot', body: c.body ?? '' }));
  }

  async reactToComment(commentId: number, content: 'eyes' | '+1' | 'rocket' | 'confused'): Promise<void> {
    await this.call('adding a reaction', () => this.octokit.rest.reactions.createForIssueComment({ ...this.ref, comment_id: commentId, content }));
  }

  async reactToIssue(number: number, content: 'eyes' | '+1' | 'rocket' | 'confused'): Promise<void> {
    await this.call('adding a reaction', () => this.octokit.rest.reactions.createForIssue({ ...this.ref, issue_number: number, content }));
  }

  async createComment(issue: number, body: string): Promise<number> {
    const { data } = await this.call(`commenting on #${issue}`, () => this.octokit.rest.issues.createComment({ ...this.ref, issue_number: issue, body }));
    return z.object({ id: z.number() }).parse(data).id;
  }

  async updateComment(commentId: number, body: string): Promise<void> {
    await this.call('editing the status comment', () => this.octokit.rest.issues.updateComment({ ...this.ref, comment_id: commentId, body }));
  }

  async defaultBranch(): Promise<{ name: string; sha: string }> {
    const { data } = await this.call('reading the repository', () => this.octokit.rest.repos.get(this.ref));
    const name = z.object({ default_branch: z.string() }).parse(data).default_branch;
    const sha = await this.branchSha(name);
    if (!sha) throw new GitHubApiError(`the default branch ${name} has no commit`, 404);
    return { name, sha };
  }

  async branchSha(branch: string): Promise<string | null> {
    const data = await this.call(`reading the branch ${branch}`, () => this.octokit.rest.git.getRef({ ...this.ref, ref: `heads/${branch}` }).then((r) => r.data), null);
    return data === null ? null : z.object({ object: Sha }).parse(data).object.sha;
  }

  async mergeBase(base: string, head: string): Promise<string> {
    // One commit per page: only merge_base_commit is read, not the commits between.
    const { data } = await this.call(`comparing ${head} with ${base}`, () => this.octokit.rest.repos.compareCommitsWithBasehead({ ...this.ref, basehead: `${base}...${head}`, per_page: 1 }));
    return z.object({ merge_base_commit: Sha }).parse(data).merge_base_commit.sha;
  }

  async downloadTarball(ref: string): Promise<Buffer> {
    const { data } = await this.call(`downloading the repository at ${ref}`, () => this.octokit.rest.repos.downloadTarballArchive({ ...this.ref, ref }));
    if (data instanceof ArrayBuffer) return Buffer.from(data);
    if (Buffer.isBuffer(data)) return data;
    throw new GitHubApiError('GitHub did not send the repository as a tarball', 502);
  }

  async commitTree(sha: string): Promise<string> {
    const { data } = await this.call(`reading commit ${sha}`, () => this.octokit.rest.git.getCommit({ ...this.ref, commit_sha: sha }));
    return z.object({ tree: Sha }).parse(data).tree.sha;
  }

  async createTree(baseTree: string, files: ReadonlyArray<{ path: string; content: string }>): Promise<string> {
    const tree = files.map((f) => ({ path: f.path, mode: '100644' as const, type: 'blob' as const, content: f.content }));
    const { data } = await this.call('writing the files', () => this.octokit.rest.git.createTree({ ...this.ref, base_tree: baseTree, tree }));
    return Sha.parse(data).sha;
  }

  async createCommit(message: string, tree: string, parents: readonly string[]): Promise<string> {
    const { data } = await this.call('making the commit', () => this.octokit.rest.git.createCommit({ ...this.ref, message, tree, parents: [...parents] }));
    return Sha.parse(data).sha;
  }

  async createBranch(branch: string, sha: string): Promise<void> {
    await this.call(`creating the branch ${branch}`, () => this.octokit.rest.git.createRef({ ...this.ref, ref: `refs/heads/${branch}`, sha }));
  }

  async updateBranch(branch: string, sha: string): Promise<void> {
    await this.call(`moving the branch ${branch}`, () => this.octokit.rest.git.updateRef({ ...this.ref, ref: `heads/${branch}`, sha, force: false }));
  }

  async getPullRequest(number: number): Promise<PullRequestDetails> {
    const { data } = await this.call(`reading pull request #${number}`, () => this.octokit.rest.pulls.get({ ...this.ref, pull_number: number }));
    const pull = Pull.extend({ title: z.string(), body: z.string().nullable(), head: z.object({ sha: z.string(), ref: z.string() }), base: z.object({ ref: z.string() }) }).parse(data);
    return { number: pull.number, url: pull.html_url, state: pull.state, headSha: pull.head.sha, title: pull.title, body: pull.body ?? '', headRef: pull.head.ref, baseRef: pull.base.ref };
  }

  async findPullRequest(branch: string): Promise<PullRequestData | null> {
    const { data } = await this.call(`looking for the pull request of ${branch}`, () =>
      this.octokit.rest.pulls.list({ ...this.ref, head: `${this.owner}:${branch}`, state: 'open', per_page: 10 }),
    );
    const pull = z.array(Pull).parse(data)[0];
    return pull ? { number: pull.number, url: pull.html_url, state: pull.state, headSha: pull.head.sha } : null;
  }

  async createPullRequest(input: { title: string; body: string; head: string; base: string; draft: boolean }): Promise<PullRequestData> {
    const { data } = await this.call('opening the pull request', () => this.octokit.rest.pulls.create({ ...this.ref, ...input }));
    const pull = Pull.parse(data);
    return { number: pull.number, url: pull.html_url, state: pull.state, headSha: pull.head.sha };
  }

  async updatePullRequest(number: number, input: { title?: string; body?: string }): Promise<void> {
    await this.call(`updating pull request #${number}`, () => this.octokit.rest.pulls.update({ ...this.ref, pull_number: number, ...input }));
  }

  async createCheckRun(input: { name: string; headSha: string; externalId: string; status: 'queued' | 'in_progress'; output?: CheckRunOutput }): Promise<{ id: number; url: string | null }> {
    const { data } = await this.call('creating the check run', () =>
      this.octokit.rest.checks.create({
        ...this.ref,
        name: input.name,
        head_sha: input.headSha,
        external_id: input.externalId,
        status: input.status,
        ...(input.output ? { output: toOutput(input.output) } : {}),
      }),
    );
    const run = z.object({ id: z.number(), html_url: z.string().nullable().optional() }).parse(data);
    return { id: run.id, url: run.html_url ?? null };
  }

  async updateCheckRun(id: number, input: { status?: 'in_progress' | 'completed'; conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled'; output?: CheckRunOutput }): Promise<void> {
    await this.call('updating the check run', () =>
      this.octokit.rest.checks.update({
        ...this.ref,
        check_run_id: id,
        ...(input.status ? { status: input.status } : {}),
        ...(input.conclusion ? { conclusion: input.conclusion } : {}),
        ...(input.output ? { output: toOutput(input.output) } : {}),
      }),
    );
  }
}

function toOutput(output: CheckRunOutput) {
  return { title: output.title, summary: output.summary, ...(output.annotations ? { annotations: [...output.annotations] } : {}) };
}

