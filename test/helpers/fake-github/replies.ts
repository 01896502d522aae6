import type { MatchedOperation } from '../openapi.js';
import { API, MAX_BODY_CHARS } from './model.js';

/** What an endpoint handler receives and answers; GitHub's error answers are thrown as a Failure. */

export interface Reply {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
}

export class Failure extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: unknown[],
  ) {
    super(message);
  }
}
export const notFound = () => new Failure(404, 'Not Found');
export const invalid = (message: string, errors?: unknown[]) => new Failure(422, message, errors);

export interface Call {
  readonly op: MatchedOperation;
  readonly query: URLSearchParams;
  readonly body: Record<string, unknown>;
  readonly headers: Record<string, string>;
}
export type Handler = (call: Call) => Reply;
/** Handlers by GitHub's operation id (`issues/create-comment`). */
export type Routes = Record<string, Handler>;

export function errorReply(failure: Failure): Reply {
  const body = { message: failure.message, documentation_url: 'https://docs.github.com/rest', ...(failure.errors ? { errors: failure.errors } : {}), status: String(failure.status) };
  return { status: failure.status, body };
}

export function checkLength(field: string, value: unknown): void {
  if (typeof value === 'string' && value.length > MAX_BODY_CHARS) {
    throw invalid('Validation Failed', [{ resource: 'Issue', code: 'custom', field, message: `${field} is too long (maximum is ${MAX_BODY_CHARS} characters)` }]);
  }
}

/** The request's path with its parameters filled in, as the description's template spells it. */
export function concretePath(op: MatchedOperation): string {
  return op.template.replace(/\{(\w+)\}/g, (_, name: string) => op.params[name] ?? '');
}

/** `per_page`/`page` with GitHub's Link header, so `octokit.paginate` walks the pages. */
export function paginate(op: MatchedOperation, query: URLSearchParams, items: unknown[]): Reply {
  const perPage = Math.min(Number(query.get('per_page') ?? 30), 100);
  const page = Number(query.get('page') ?? 1);
  const last = Math.max(1, Math.ceil(items.length / perPage));
  const url = (n: number) => {
    const q = new URLSearchParams(query);
    q.set('page', String(n));
    return `<${API}${concretePath(op).split('/').map(encodeURIComponent).join('/')}?${q}>`;
  };
  const links = page < last ? [`${url(page + 1)}; rel="next"`, `${url(last)}; rel="last"`] : [];
  return { status: 200, body: items.slice((page - 1) * perPage, page * perPage), headers: links.length ? { link: links.join(', ') } : {} };
}
