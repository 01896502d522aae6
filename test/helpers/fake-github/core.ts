import type nock from 'nock';
import { checkRequest, checkResponse, findOperation, OpenApiViolation, type MatchedOperation } from '../openapi.js';
import { authenticate } from './auth.js';
import { API, type Fault, type RecordedRequest } from './model.js';
import { concretePath, errorReply, Failure, invalid, notFound, type Reply, type Routes } from './replies.js';
import type { FakeStore } from './store.js';

/**
 * The request core: records a request, matches it to GitHub's operation, checks it and the answer against
 * the OpenAPI description, authenticates it, applies injected faults and hands it to the resource's handler.
 */
export class RequestCore {
  private readonly faults: Array<Fault & { left: number }> = [];

  constructor(
    private readonly store: FakeStore,
    private readonly routes: Routes,
  ) {}

  /** The next `times` requests matching `fault` get its answer instead of reaching a handler. */
  failNext(fault: Fault): void {
    this.faults.push({ ...fault, left: fault.times ?? 1 });
  }

  /** Answers one api.github.com request (`uri`: path and query). */
  handle(method: string, uri: string, rawBody: unknown, rawHeaders: Record<string, string | string[]>): nock.ReplyFnResult {
    const { requests, violations } = this.store;
    const headers = Object.fromEntries(Object.entries(rawHeaders).map(([k, v]) => [k.toLowerCase(), Array.isArray(v) ? v.join(', ') : String(v)]));
    const body = parseBody(rawBody);
    const path = uri.split('?')[0] ?? uri;
    const record: RecordedRequest = { method, url: API + uri, path, operationId: null, body, headers, status: 0 };
    requests.push(record);
    const answer = (reply: Reply): nock.ReplyFnResult => {
      record.status = reply.status;
      const json = reply.body !== undefined && !Buffer.isBuffer(reply.body) && typeof reply.body !== 'string';
      const out: Record<string, string> = { ...(json ? { 'content-type': 'application/json; charset=utf-8' } : {}), 'x-github-request-id': `FAKE:${requests.length}`, ...reply.headers };
      return [reply.status, json ? JSON.stringify(reply.body) : (reply.body as string | Buffer | undefined) ?? '', out];
    };
    const found = findOperation(method, uri);
    if ('error' in found) {
      violations.push(`request ${found.error}`);
      return answer(errorReply(notFound()));
    }
    Object.assign(record, { operationId: found.operationId });
    let op: MatchedOperation;
    try {
      op = checkRequest({ method, url: uri, body });
    } catch (error) {
      if (!(error instanceof OpenApiViolation)) throw error;
      violations.push(`request ${error.message}`);
      return answer(errorReply(invalid(`Invalid request.\n\n${error.problems.join('\n')}`)));
    }
    const reply = this.dispatch(op, new URL(uri, API).searchParams, body, headers);
    try {
      checkResponse(op, { status: reply.status, body: reply.body, contentType: reply.headers?.['content-type'] ?? 'application/json' });
    } catch (error) {
      if (!(error instanceof OpenApiViolation)) throw error;
      violations.push(`response ${error.message}`);
      return answer({ status: 500, body: { message: `The fake GitHub's answer does not match GitHub's API: ${error.message}` } });
    }
    return answer(reply);
  }

  private dispatch(op: MatchedOperation, query: URLSearchParams, body: unknown, headers: Record<string, string>): Reply {
    try {
      authenticate(this.store, op, headers);
      const fault = this.faults.find((f) => f.left > 0 && (!f.method || f.method.toUpperCase() === op.method) && matches(f.pathPattern, op));
      if (fault) {
        fault.left--;
        return { status: fault.status, headers: fault.headers ?? {}, body: fault.body ?? { message: 'A failure injected by the test', documentation_url: 'https://docs.github.com/rest' } };
      }
      const handler = this.routes[op.operationId];
      if (!handler) throw new Failure(501, `The fake GitHub does not implement ${op.label}`);
      return handler({ op, query, body: (body ?? {}) as Record<string, unknown>, headers });
    } catch (error) {
      // A request the fake cannot answer, or a bug in it, must fail the test even when the code swallows the error.
      if (!(error instanceof Failure) || error.status >= 500) this.store.violations.push(`${op.label}: ${error instanceof Failure ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
      return errorReply(error instanceof Failure ? error : new Failure(500, `The fake GitHub failed: ${String(error)}`));
    }
  }
}

/** GitHub's secondary rate limit as it arrives: 403, `retry-after`, and the message that names it. */
export function secondaryRateLimit(match: { method?: string; pathPattern: string | RegExp; times?: number; retryAfterSeconds?: number }): Fault {
  return {
    ...match,
    status: 403,
    headers: { 'retry-after': String(match.retryAfterSeconds ?? 1) },
    body: { message: 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.', documentation_url: 'https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits' },
  };
}

function matches(pattern: string | RegExp, op: MatchedOperation): boolean {
  if (pattern instanceof RegExp) return pattern.test(concretePath(op));
  return pattern === op.template || pattern === concretePath(op);
}

function parseBody(raw: unknown): unknown {
  if (typeof raw !== 'string') return raw === null ? undefined : raw;
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}
