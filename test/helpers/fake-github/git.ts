import { exampleOf } from '../openapi.js';
import { API, WEB, type FakeCommit, type FakeRepo } from './model.js';
import { Failure, invalid, notFound, type Reply, type Routes } from './replies.js';
import { blobSha, nodeId, treeSha, type FakeStore } from './store.js';

/** Git data and refs: what the bot commits through (a tree with inline contents, a commit, a ref), fast-forward only. */
export function gitRoutes(store: FakeStore): Routes {
  return {
    'git/get-ref': ({ op }) => {
      const repo = store.repoOf(op);
      const ref = `refs/${op.params.ref}`;
      const sha = repo.refs.get(ref);
      if (!sha) throw notFound();
      return { status: 200, body: refJson(repo, ref, sha) };
    },
    'git/get-commit': ({ op }) => {
      const repo = store.repoOf(op);
      const commit = store.commits.get(op.params.commit_sha!);
      if (!commit) throw notFound();
      return { status: 200, body: commitJson(repo, commit) };
    },
    'git/create-tree': ({ op, body }) => createTree(store, store.repoOf(op), body),
    'git/create-commit': ({ op, body }) => {
      const repo = store.repoOf(op);
      const tree = String(body.tree);
      if (!store.trees.has(tree)) throw invalid('Tree SHA does not exist');
      const parents = ((body.parents ?? []) as string[]).map(String);
      if (parents.some((p) => !store.commits.has(p))) throw invalid('Parent SHA does not exist or is not a commit object');
      const sha = store.storeCommit(tree, parents, String(body.message));
      return { status: 201, body: commitJson(repo, store.commits.get(sha)!) };
    },
    'git/create-ref': ({ op, body }) => {
      const repo = store.repoOf(op);
      const ref = String(body.ref);
      if (!/^refs\/[^/]+\/.+/.test(ref)) throw invalid("Reference name must start with 'refs/' and have at least two slashes.");
      if (!store.commits.has(String(body.sha))) throw invalid('Object does not exist');
      if (repo.refs.has(ref)) throw invalid('Reference already exists');
      repo.refs.set(ref, String(body.sha));
      return { status: 201, body: refJson(repo, ref, String(body.sha)) };
    },
    'git/update-ref': ({ op, body }) => {
      const repo = store.repoOf(op);
      const ref = `refs/${op.params.ref!.replace(/^refs\//, '')}`;
      const current = repo.refs.get(ref);
      const sha = String(body.sha);
      if (!current) throw invalid('Reference does not exist');
      if (!store.commits.has(sha)) throw invalid('Object does not exist');
      if (body.force !== true && !store.isAncestor(current, sha)) throw invalid('Update is not a fast forward');
      repo.refs.set(ref, sha);
      return { status: 200, body: refJson(repo, ref, sha) };
    },
  };
}

function createTree(store: FakeStore, repo: FakeRepo, body: Record<string, unknown>): Reply {
  const base = body.base_tree === undefined ? new Map<string, string>() : store.trees.get(String(body.base_tree));
  if (!base) throw invalid('base_tree is not a valid tree oid');
  const next = new Map(base);
  for (const entry of body.tree as Array<Record<string, unknown>>) {
    const path = String(entry.path);
    if (path.split('/').some((s) => s === '' || s === '.' || s === '..' || s.toLowerCase() === '.git')) throw invalid(`tree.path contains a malformed path component (${path})`);
    if (entry.type !== 'blob') throw new Failure(501, `The fake GitHub only writes blobs into trees (${path} is a ${String(entry.type)})`);
    if (entry.sha === null) next.delete(path);
    else if (typeof entry.content === 'string') next.set(path, entry.content);
    else if (typeof entry.sha === 'string' && store.blobs.has(entry.sha)) next.set(path, store.blobs.get(entry.sha)!);
    else throw invalid(`tree.sha ${String(entry.sha)} is not a valid blob`);
  }
  const sha = store.storeTree(next);
  const top = new Map<string, { type: string; mode: string; sha: string; size?: number }>();
  for (const [path, content] of next) {
    const [first = '', ...rest] = path.split('/');
    if (rest.length === 0) top.set(first, { type: 'blob', mode: '100644', sha: blobSha(content), size: Buffer.byteLength(content) });
    else if (!top.has(first)) top.set(first, { type: 'tree', mode: '040000', sha: treeSha(new Map([...next].filter(([p]) => p.startsWith(`${first}/`)))) });
  }
  const tree = [...top].map(([path, e]) => ({ path, ...e, url: `${API}/repos/${repo.owner}/${repo.name}/git/${e.type}s/${e.sha}` }));
  return { status: 201, body: { sha, url: `${API}/repos/${repo.owner}/${repo.name}/git/trees/${sha}`, tree, truncated: false } };
}

function refJson(repo: FakeRepo, ref: string, sha: string): Record<string, unknown> {
  const base = `${API}/repos/${repo.owner}/${repo.name}/git`;
  return { ref, node_id: nodeId('Ref', ref), url: `${base}/${ref}`, object: { type: 'commit', sha, url: `${base}/commits/${sha}` } };
}

function commitJson(repo: FakeRepo, commit: FakeCommit): Record<string, unknown> {
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
