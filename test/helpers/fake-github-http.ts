import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { FakeGitHub } from './fake-github.js';

/**
 * The in-memory FakeGitHub served over real HTTP on 127.0.0.1, the way a GitHub Enterprise Server answers:
 * the REST API under `/api/v3` (point Probot at it with GHE_HOST=127.0.0.1:<port> and GHE_PROTOCOL=http)
 * and the tarball downloads under `/_codeload`. Absolute URLs the client follows (a redirect's `location`,
 * pagination `link`s) are rewritten from github.com's hosts to this server, so nothing leaves loopback.
 * Every request still goes through the fake's OpenAPI checks; read `github.violations` afterwards.
 */
export interface FakeGitHubServer {
  /** `127.0.0.1:<port>`, for GHE_HOST. */
  readonly host: string;
  /** `http://127.0.0.1:<port>/api/v3`, Octokit's baseUrl. */
  readonly apiUrl: string;
  close(): Promise<void>;
}

const API_PREFIX = '/api/v3';
const CODELOAD_PREFIX = '/_codeload';

export async function serveFakeGitHub(github: FakeGitHub): Promise<FakeGitHubServer> {
  let origin = '';
  const server: Server = createServer((request, response) => {
    void readBody(request).then((body) => {
      const url = request.url ?? '/';
      const answer = url.startsWith(`${CODELOAD_PREFIX}/`)
        ? github.codeload(url.slice(CODELOAD_PREFIX.length))
        : url.startsWith(`${API_PREFIX}/`)
          ? github.handle(request.method ?? 'GET', url.slice(API_PREFIX.length), body, headersOf(request))
          : ([404, JSON.stringify({ message: `The fake GitHub serves ${API_PREFIX} and ${CODELOAD_PREFIX} only, not ${url}` }), { 'content-type': 'application/json' }] as const);
      const [status, payload, headers] = answer;
      const out: Record<string, string> = {};
      for (const [name, value] of Object.entries((headers ?? {}) as Record<string, unknown>)) out[name] = toLoopback(String(value), origin);
      const bytes = payload === undefined ? '' : Buffer.isBuffer(payload) || typeof payload === 'string' ? payload : JSON.stringify(payload);
      response.writeHead(status, out).end(bytes);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as { port: number };
  const host = `127.0.0.1:${port}`;
  origin = `http://${host}`;
  return {
    host,
    apiUrl: `${origin}${API_PREFIX}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.on('error', reject);
  });
}

function headersOf(request: IncomingMessage): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(request.headers)) if (value !== undefined) headers[name] = value;
  return headers;
}

function toLoopback(value: string, origin: string): string {
  return value.replaceAll('https://api.github.com', `${origin}${API_PREFIX}`).replaceAll('https://codeload.github.com', `${origin}${CODELOAD_PREFIX}`);
}
