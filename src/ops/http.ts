import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Metrics } from './metrics.js';

export interface Readiness {
  /** Null when ready; otherwise why not (shutting down, the store unreachable). */
  check(): Promise<string | null>;
}

/**
 * The operations endpoints, as a Probot server handler (Probot answers `/ping` itself):
 * - `GET /metrics`: Prometheus text format.
 * - `GET /healthz`: 200 while the process and its event loop live (liveness).
 * - `GET /readyz`: 200 when the process takes work: its store answers and it is not shutting down;
 *   503 with the reason otherwise (readiness: a load balancer stops sending deliveries).
 * Returns true when it answered the request.
 */
export function opsHandler(metrics: Metrics, readiness: Readiness) {
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (path === '/metrics') {
      const { contentType, body } = await metrics.render();
      res.writeHead(200, { 'content-type': contentType }).end(body);
      return true;
    }
    if (path === '/healthz') {
      json(res, 200, { status: 'ok' });
      return true;
    }
    if (path === '/readyz') {
      const problem = await readiness.check().catch((error: unknown) => `readiness check failed: ${(error as Error).message}`);
      json(res, problem ? 503 : 200, problem ? { status: 'unavailable', reason: problem } : { status: 'ready' });
      return true;
    }
    return false;
  };
}

/** A server with only the operations endpoints, for a worker process that takes no webhooks. */
export async function startOpsServer(handler: ReturnType<typeof opsHandler>, port: number, host?: string): Promise<Server> {
  const server = createServer((req, res) => {
    handler(req, res)
      .then((answered) => {
        if (!answered) json(res, 404, { status: 'not found' });
      })
      .catch(() => json(res, 500, { status: 'error' }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  return server;
}

function json(res: ServerResponse, status: number, body: object): void {
  if (!res.headersSent) res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}
