import type { Permission } from '../../../src/github/api.js';

/** The state the fake GitHub keeps, as tests arrange and inspect it. */

export const API = 'https://api.github.com';
export const CODELOAD = 'https://codeload.github.com';
export const WEB = 'https://github.com';
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

/** The app whose JWTs the fake accepts. */
export interface FakeAppKey {
  readonly appId: number;
  readonly publicKey: string;
}
