import type nock from 'nock';
import { exampleOf } from '../openapi.js';
import { API, CODELOAD, WEB, type FakeRepo } from './model.js';
import { Failure, notFound, type Reply, type Routes } from './replies.js';
import { asUser, blobSha, nodeId, type FakeStore } from './store.js';
import { buildTarball } from './tarball.js';

/** Repositories: the repository itself, collaborator permissions, file contents and the tarball download. */
export function repoRoutes(store: FakeStore): Routes {
  return {
    'repos/get': ({ op }) => ({ status: 200, body: repoJson(store, store.repoOf(op), 'full-repository') }),
    'repos/get-collaborator-permission-level': ({ op }) => {
      const repo = store.repoOf(op);
      const level = repo.permissions.get(op.params.username!);
      if (level === undefined) throw new Failure(404, `${op.params.username} is not a user`);
      // `permission` folds maintain into write and triage into read; role_name keeps them.
      const permission = level === 'maintain' ? 'write' : level === 'triage' ? 'read' : level;
      return { status: 200, body: { permission, role_name: level, user: { ...store.userJson(asUser(op.params.username!)), role_name: level } } };
    },
    'repos/get-content': ({ op, query, headers }) => content(store, store.repoOf(op), op.params.path!, query.get('ref'), headers.accept ?? ''),
    // GitHub's description has `{basehead}` and the older `{base}...{head}`; a request matches the latter when neither names a folder.
    'repos/compare-commits-with-basehead': ({ op }) => compare(store, store.repoOf(op), op.params.basehead!),
    'repos/compare-commits': ({ op }) => compare(store, store.repoOf(op), `${op.params.base}...${op.params.head}`),
    'repos/download-tarball-archive': ({ op }) => {
      const repo = store.repoOf(op);
      if (!store.resolve(repo, op.params.ref!)) throw notFound();
      // Private archives are fetched with a short-lived token in the URL: the redirect drops the Authorization header.
      const token = repo.private ? `?token=${[...store.tokens].at(-1) ?? ''}` : '';
      return { status: 302, headers: { location: `${CODELOAD}/${repo.owner}/${repo.name}/legacy.tar.gz/${encodeURI(op.params.ref!)}${token}` } };
    },
  };
}

/** `base...head`: where they forked (a real merge base, from the commits' parents) and how far each went since; no commits or files are listed. */
function compare(store: FakeStore, repo: FakeRepo, basehead: string): Reply {
  const [baseRef = '', headRef = ''] = basehead.split('...');
  const base = store.resolve(repo, baseRef);
  const head = store.resolve(repo, headRef);
  if (!base || !head) throw notFound();
  const mergeBase = store.mergeBase(base, head);
  if (!mergeBase) throw new Failure(404, `No common ancestor between ${baseRef} and ${headRef}.`);
  const since = (sha: string) => store.ancestors(sha).size - store.ancestors(mergeBase).size;
  const [ahead, behind] = [since(head), since(base)];
  const status = ahead === 0 && behind === 0 ? 'identical' : behind === 0 ? 'ahead' : ahead === 0 ? 'behind' : 'diverged';
  const full = `${repo.owner}/${repo.name}`;
  return {
    status: 200,
    body: {
      ...exampleOf('commit-comparison'),
      url: `${API}/repos/${full}/compare/${basehead}`,
      html_url: `${WEB}/${full}/compare/${basehead}`,
      permalink_url: `${WEB}/${full}/compare/${full.replace('/', ':')}:${base.slice(0, 7)}...${full.replace('/', ':')}:${head.slice(0, 7)}`,
      diff_url: `${WEB}/${full}/compare/${basehead}.diff`,
      patch_url: `${WEB}/${full}/compare/${basehead}.patch`,
      base_commit: commitSummary(repo, base),
      merge_base_commit: commitSummary(repo, mergeBase),
      status,
      ahead_by: ahead,
      behind_by: behind,
      total_commits: ahead,
      commits: [],
      files: [],
    },
  };
}

/** GitHub's `commit` schema for one commit, with the fields the bot reads. */
function commitSummary(repo: FakeRepo, sha: string): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return { ...exampleOf('commit'), sha, node_id: nodeId('Commit', sha), url: `${API}/repos/${full}/commits/${sha}`, html_url: `${WEB}/${full}/commit/${sha}`, comments_url: `${API}/repos/${full}/commits/${sha}/comments` };
}

/** GitHub's tarball of the repository at `ref`: gzip, a pax header with the sha, one top folder `owner-repo-<short sha>/`. */
export function repoTarball(store: FakeStore, repo: FakeRepo, ref: string): Buffer {
  const sha = store.resolve(repo, ref);
  if (!sha) throw new Error(`${repo.owner}/${repo.name} has no ref or commit ${ref}`);
  const commit = store.commits.get(sha)!;
  return buildTarball(`${repo.owner}-${repo.name}-${sha.slice(0, 7)}`, store.trees.get(commit.tree)!, sha, new Date(commit.date));
}

/** Answers one codeload.github.com request (a tarball download). */
export function answerCodeload(store: FakeStore, uri: string): nock.ReplyFnResult {
  const url = new URL(uri, CODELOAD);
  const record = { method: 'GET', url: url.href, path: url.pathname, operationId: null, body: undefined, headers: {}, status: 0 };
  store.requests.push(record);
  const match = /^\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/(.+)$/.exec(url.pathname);
  const repo = match && store.findRepo(match[1]!, match[2]!);
  const ref = match ? decodeURIComponent(match[3]!) : '';
  const sha = repo ? store.resolve(repo, ref) : undefined;
  if (!repo || !sha || (repo.private && !store.tokens.has(url.searchParams.get('token') ?? ''))) {
    record.status = 404;
    return [404, 'Not Found', { 'content-type': 'text/plain; charset=utf-8' }];
  }
  record.status = 200;
  return [200, repoTarball(store, repo, sha), { 'content-type': 'application/x-gzip', 'content-disposition': `attachment; filename=${repo.owner}-${repo.name}-${sha.slice(0, 7)}.tar.gz` }];
}

export function repoJson(store: FakeStore, repo: FakeRepo, schema: 'full-repository' | 'repository'): Record<string, unknown> {
  const full = `${repo.owner}/${repo.name}`;
  return {
    ...exampleOf(schema),
    id: repo.id,
    node_id: nodeId('Repository', repo.id),
    name: repo.name,
    full_name: full,
    owner: store.userJson(asUser(repo.owner)),
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

function content(store: FakeStore, repo: FakeRepo, path: string, ref: string | null, accept: string): Reply {
  const sha = store.resolve(repo, ref ?? repo.defaultBranch);
  const files = sha ? store.filesOf(sha) : new Map<string, string>();
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
