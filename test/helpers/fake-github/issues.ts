import { exampleOf } from '../openapi.js';
import { API, WEB, type FakeComment, type FakeIssue, type FakeReaction, type FakeRepo } from './model.js';
import { checkLength, notFound, paginate, type Reply, type Routes } from './replies.js';
import { association, nodeId, now, type FakeStore } from './store.js';

/** Issues, their comments and reactions. */
export function issueRoutes(store: FakeStore): Routes {
  const json = issueShapes(store);
  const react = (repo: FakeRepo, on: FakeReaction['on'], content: string): Reply => {
    const same = repo.reactions.find((r) => JSON.stringify(r.on) === JSON.stringify(on) && r.content === content && r.user.login === store.bot.login);
    // GitHub answers 200 with the existing reaction when the same one is added twice.
    if (same) return { status: 200, body: json.reaction(same) };
    const reaction: FakeReaction = { id: store.id(), on, content, user: store.bot };
    repo.reactions.push(reaction);
    return { status: 201, body: json.reaction(reaction) };
  };
  return {
    'issues/get': ({ op }) => ({ status: 200, body: json.issue(store.repoOf(op), store.issueOf(op)) }),
    'issues/list-comments': ({ op, query }) => {
      const repo = store.repoOf(op);
      const issue = store.issueOf(op);
      const all = [...repo.comments.values()].filter((c) => c.issue === issue.number).map((c) => json.comment(repo, c));
      return paginate(op, query, all);
    },
    'issues/create-comment': ({ op, body }) => {
      const repo = store.repoOf(op);
      const issue = store.issueOf(op);
      checkLength('body', body.body);
      return { status: 201, body: json.comment(repo, store.storeComment(repo, issue.number, String(body.body), store.bot)) };
    },
    'issues/update-comment': ({ op, body }) => {
      const repo = store.repoOf(op);
      const comment = repo.comments.get(Number(op.params.comment_id));
      if (!comment) throw notFound();
      checkLength('body', body.body);
      comment.body = String(body.body);
      comment.history.push(comment.body);
      comment.updatedAt = now();
      return { status: 200, body: json.comment(repo, comment) };
    },
    'reactions/create-for-issue-comment': ({ op, body }) => {
      const repo = store.repoOf(op);
      if (!repo.comments.has(Number(op.params.comment_id))) throw notFound();
      return react(repo, { comment: Number(op.params.comment_id) }, String(body.content));
    },
    'reactions/create-for-issue': ({ op, body }) => react(store.repoOf(op), { issue: store.issueOf(op).number }, String(body.content)),
  };
}

/** GitHub's JSON for issues, comments and reactions: required fields from the description's examples, state from the fake. */
function issueShapes(store: FakeStore) {
  return {
    issue(repo: FakeRepo, issue: FakeIssue): Record<string, unknown> {
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
        user: store.userJson(issue.author),
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
    },
    comment(repo: FakeRepo, comment: FakeComment): Record<string, unknown> {
      const base = `${API}/repos/${repo.owner}/${repo.name}`;
      return {
        ...exampleOf('issue-comment'),
        id: comment.id,
        node_id: nodeId('IssueComment', comment.id),
        body: comment.body,
        user: store.userJson(comment.author),
        url: `${base}/issues/comments/${comment.id}`,
        html_url: `${WEB}/${repo.owner}/${repo.name}/issues/${comment.issue}#issuecomment-${comment.id}`,
        issue_url: `${base}/issues/${comment.issue}`,
        created_at: comment.createdAt,
        updated_at: comment.updatedAt,
        author_association: association(repo, comment.author),
      };
    },
    reaction(reaction: FakeReaction): Record<string, unknown> {
      return { id: reaction.id, node_id: nodeId('Reaction', reaction.id), user: store.userJson(reaction.user), content: reaction.content, created_at: now() };
    },
  };
}
