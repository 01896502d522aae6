import { exampleOf } from '../openapi.js';
import { API, WEB, type FakePull, type FakeRepo } from './model.js';
import { checkLength, invalid, notFound, paginate, type Reply, type Routes } from './replies.js';
import { repoJson } from './repos.js';
import { asUser, nodeId, type FakeStore } from './store.js';

/** Pull requests, with GitHub's rule of one open pull request per head and base. */
export function pullRoutes(store: FakeStore): Routes {
  const json = (repo: FakeRepo, pull: FakePull) => pullJson(store, repo, pull);
  const pullOf = (repo: FakeRepo, number: string | undefined): FakePull => {
    const pull = repo.pulls.get(Number(number));
    if (!pull) throw notFound();
    return pull;
  };
  return {
    'pulls/list': ({ op, query }) => {
      const repo = store.repoOf(op);
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
      return paginate(op, query, pulls.reverse().map((p) => json(repo, p)));
    },
    'pulls/create': ({ op, body }) => createPull(store, store.repoOf(op), body),
    'pulls/get': ({ op }) => {
      const repo = store.repoOf(op);
      return { status: 200, body: json(repo, pullOf(repo, op.params.pull_number)) };
    },
    'pulls/update': ({ op, body }) => {
      const repo = store.repoOf(op);
      const pull = pullOf(repo, op.params.pull_number);
      if (body.body !== undefined) checkLength('body', body.body);
      if (typeof body.title === 'string') pull.title = body.title;
      if (body.body !== undefined) pull.body = body.body as string | null;
      if (body.state === 'open' || body.state === 'closed') pull.state = body.state;
      if (typeof body.base === 'string') pull.base = body.base;
      const issue = repo.issues.get(pull.number)!;
      Object.assign(issue, { title: pull.title, body: pull.body, state: pull.state });
      return { status: 200, body: json(repo, pull) };
    },
  };
}

function createPull(store: FakeStore, repo: FakeRepo, body: Record<string, unknown>): Reply {
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
  if (store.isAncestor(headSha, baseSha)) throw invalid('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `No commits between ${base} and ${head}` }]);
  const number = store.nextNumber(repo);
  const pull: FakePull = { number, title: body.title, body: (body.body as string | undefined) ?? null, head, base, draft: body.draft === true, state: 'open', headSha };
  repo.pulls.set(number, pull);
  repo.issues.set(number, { number, title: pull.title, body: pull.body, author: store.bot, state: 'open', labels: [], isPullRequest: true });
  return { status: 201, body: pullJson(store, repo, pull) };
}

function pullJson(store: FakeStore, repo: FakeRepo, pull: FakePull): Record<string, unknown> {
  pull.headSha = repo.refs.get(`refs/heads/${pull.head}`) ?? pull.headSha;
  const base = `${API}/repos/${repo.owner}/${repo.name}`;
  const web = `${WEB}/${repo.owner}/${repo.name}/pull/${pull.number}`;
  const side = (ref: string, sha: string) => ({ label: `${repo.owner}:${ref}`, ref, sha, user: store.userJson(asUser(repo.owner)), repo: repoJson(store, repo, 'repository') });
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
    user: store.userJson(store.bot),
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
