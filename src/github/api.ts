import type { CheckRunAnnotation } from '../render/annotations.js';

/** Collaborator permission levels, weakest first. */
export const PERMISSIONS = ['none', 'read', 'triage', 'write', 'maintain', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export function permissionReaches(have: Permission, need: Exclude<Permission, 'none'>): boolean {
  return PERMISSIONS.indexOf(have) >= PERMISSIONS.indexOf(need);
}

export interface IssueData {
  readonly number: number;
  readonly title: string;
  readonly body: string;
  readonly author: string;
  readonly state: 'open' | 'closed';
}

export interface CommentData {
  readonly id: number;
  readonly author: string;
  readonly authorIsBot: boolean;
  readonly body: string;
}

export interface PullRequestData {
  readonly number: number;
  readonly url: string;
  readonly state: 'open' | 'closed';
  readonly headSha: string;
}

export interface PullRequestDetails extends PullRequestData {
  readonly title: string;
  readonly body: string;
  /** The head branch's name (`code4py/issue-7`) and the base branch's. */
  readonly headRef: string;
  readonly baseRef: string;
}

export interface CheckRunOutput {
  readonly title: string;
  readonly summary: string;
  readonly annotations?: readonly CheckRunAnnotation[];
}

/**
 * Everything the bot asks of GitHub, for one repository. The only implementation that talks to GitHub is
 * OctokitGitHub; the pipeline sees this interface, so it can be tested with a fake.
 */
export interface GitHubApi {
  readonly owner: string;
  readonly repo: string;
  permissionOf(username: string): Promise<Permission>;
  getIssue(number: number): Promise<IssueData>;
  listComments(number: number): Promise<CommentData[]>;
  reactToComment(commentId: number, content: 'eyes' | '+1' | 'rocket' | 'confused'): Promise<void>;
  reactToIssue(number: number, content: 'eyes' | '+1' | 'rocket' | 'confused'): Promise<void>;
  createComment(issue: number, body: string): Promise<number>;
  updateComment(commentId: number, body: string): Promise<void>;
  /** The default branch and its head commit. */
  defaultBranch(): Promise<{ name: string; sha: string }>;
  /** The head commit of a branch, or null when there is no such branch. */
  branchSha(branch: string): Promise<string | null>;
  /**
   * Where `head` forked from `base` (branch names or shas): their best common ancestor, the commit a branch's
   * change is judged against — `base`'s tip once it has moved on would make its newer commits look reverted.
   */
  mergeBase(base: string, head: string): Promise<string>;
  /** The repository at `ref` as GitHub's gzipped tarball. */
  downloadTarball(ref: string): Promise<Buffer>;
  /** The tree of a commit. */
  commitTree(sha: string): Promise<string>;
  /** One tree with the files' contents inline (no blob per file). */
  createTree(baseTree: string, files: ReadonlyArray<{ path: string; content: string }>): Promise<string>;
  createCommit(message: string, tree: string, parents: readonly string[]): Promise<string>;
  createBranch(branch: string, sha: string): Promise<void>;
  /** Moves a branch forward; never forced, so a commit someone else pushed is never lost. */
  updateBranch(branch: string, sha: string): Promise<void>;
  getPullRequest(number: number): Promise<PullRequestDetails>;
  /** The open pull request whose head is `branch` in this repository, if any. */
  findPullRequest(branch: string): Promise<PullRequestData | null>;
  createPullRequest(input: { title: string; body: string; head: string; base: string; draft: boolean }): Promise<PullRequestData>;
  updatePullRequest(number: number, input: { title?: string; body?: string }): Promise<void>;
  /** The new check run's id, and its page on GitHub (null when GitHub gives none). */
  createCheckRun(input: { name: string; headSha: string; externalId: string; status: 'queued' | 'in_progress'; output?: CheckRunOutput }): Promise<{ id: number; url: string | null }>;
  updateCheckRun(id: number, input: { status?: 'in_progress' | 'completed'; conclusion?: 'success' | 'failure' | 'neutral' | 'cancelled'; output?: CheckRunOutput }): Promise<void>;
}
