import type { FakeGitHub, FakeRepo } from './fake-github.js';
import type { MatchedOperation } from './openapi.js';

/**
 * The fake GitHub's labels: `GET` and `POST /repos/{owner}/{repo}/labels[/{name}]`, with GitHub's rules where
 * the bot could break them (names compare case-insensitively; a second label of a name is a 422
 * `already_exists`). Plugged into FakeGitHub's routes with `...labelRoutes(…)`; a repository's labels live
 * here, keyed by the fake's repository, so FakeRepo needs no field for them.
 */

export interface FakeLabel {
  readonly id: number;
  readonly name: string;
  readonly color: string;
  readonly description: string | null;
}

interface Reply {
  readonly status: number;
  readonly body?: unknown;
}
type Handler = (call: { readonly op: MatchedOperation; readonly body: Record<string, unknown> }) => Reply;

/** What the routes need of the fake: its repositories, and its way of answering an error as GitHub does. */
export interface LabelRouteHost {
  repoOf(op: MatchedOperation): FakeRepo;
  fail(status: number, message: string, errors?: unknown[]): never;
}

const store = new WeakMap<FakeRepo, FakeLabel[]>();
let nextId = 208_045_946;

function labelsIn(repo: FakeRepo): FakeLabel[] {
  let labels = store.get(repo);
  if (!labels) store.set(repo, (labels = []));
  return labels;
}

/** A label the repository has before the test's requests (as the maintainers made it). */
export function addLabel(github: FakeGitHub, fullName: string, label: { name: string; color?: string; description?: string | null }): FakeLabel {
  const made: FakeLabel = { id: nextId++, name: label.name, color: label.color ?? 'ededed', description: label.description ?? null };
  labelsIn(github.repo(fullName)).push(made);
  return made;
}

/** The repository's labels now. */
export function labelsOf(github: FakeGitHub, fullName: string): readonly FakeLabel[] {
  return [...labelsIn(github.repo(fullName))];
}

export function labelRoutes(host: LabelRouteHost): Record<string, Handler> {
  const find = (repo: FakeRepo, name: string) => labelsIn(repo).find((l) => l.name.toLowerCase() === name.toLowerCase());
  return {
    'issues/get-label': ({ op }) => {
      const repo = host.repoOf(op);
      const label = find(repo, op.params.name ?? '');
      if (!label) host.fail(404, 'Not Found');
      return { status: 200, body: labelJson(repo, label) };
    },
    'issues/create-label': ({ op, body }) => {
      const repo = host.repoOf(op);
      const name = String(body.name ?? '');
      if (find(repo, name)) host.fail(422, 'Validation Failed', [{ resource: 'Label', code: 'already_exists', field: 'name' }]);
      const label: FakeLabel = { id: nextId++, name, color: String(body.color ?? 'ededed').replace(/^#/, ''), description: (body.description as string | undefined) ?? null };
      labelsIn(repo).push(label);
      return { status: 201, body: labelJson(repo, label) };
    },
  };
}

function labelJson(repo: FakeRepo, label: FakeLabel): Record<string, unknown> {
  return {
    id: label.id,
    node_id: Buffer.from(`Label:${label.id}`).toString('base64'),
    url: `https://api.github.com/repos/${repo.owner}/${repo.name}/labels/${encodeURIComponent(label.name)}`,
    name: label.name,
    description: label.description,
    color: label.color,
    default: false,
  };
}
