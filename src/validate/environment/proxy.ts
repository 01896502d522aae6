import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';

/** A host the install run may reach, by name (as the request names it) and port. */
export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** One connection the install run asked for, and whether it was let through. */
export interface ProxyAttempt extends HostPort {
  readonly method: string;
  readonly allowed: boolean;
}

export interface AllowListProxy {
  /** Host path of the folder that holds the socket (mount it into the sandbox). */
  readonly dir: string;
  /** The socket's file name inside `dir`. */
  readonly socketName: string;
  /** What was asked for so far, allowed or not (at most the first few hundred). */
  attempts(): readonly ProxyAttempt[];
  /** Stops listening, cuts every open connection and removes the socket's folder. */
  close(): Promise<void>;
}

const PROXY_SOCKET = 'proxy.sock';
const MAX_ATTEMPTS_KEPT = 500;
/** A connection that carries nothing for this long is cut: a stuck install must not hold the proxy open. */
const IDLE_MS = 120_000;
/** Headers that belong to one hop (RFC 9110 §7.6.1) or to the proxy, never forwarded. */
const HOP_HEADERS = new Set(['connection', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

/**
 * The install run's only way out: an HTTP proxy on a unix socket (bridged to a loopback port inside the
 * sandbox's own network namespace) that lets through CONNECT tunnels and plain-HTTP requests to the
 * allowed hosts and ports, and refuses everything else with 403. Names are compared as the request writes
 * them (lower-cased), so an allowed name is resolved on the host, and an address is only reachable when it
 * is itself allowed. Node's http server is used rather than a proxy package: none of the maintained ones
 * listens on a unix socket and filters by host and port.
 */
export async function startAllowListProxy(allowed: readonly HostPort[]): Promise<AllowListProxy> {
  const allow = new Set(allowed.map((h) => key(h.host, h.port)));
  const attempts: ProxyAttempt[] = [];
  const open = new Set<Duplex>();
  const note = (method: string, host: string, port: number): boolean => {
    const ok = allow.has(key(host, port));
    if (attempts.length < MAX_ATTEMPTS_KEPT) attempts.push({ method, host, port, allowed: ok });
    return ok;
  };
  const track = (socket: Duplex): void => {
    open.add(socket);
    socket.once('close', () => open.delete(socket));
  };

  const server = createServer((req, res) => {
    const target = absoluteHttpUrl(req.url);
    if (!target) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('code4py proxy: only absolute http:// URLs and CONNECT are served\n');
      return;
    }
    const port = Number(target.port || 80);
    if (!note(req.method ?? 'GET', target.hostname, port)) {
      res.writeHead(403, { 'content-type': 'text/plain' }).end(refusal(target.hostname, port));
      return;
    }
    const upstream = httpRequest(
      { host: target.hostname, port, method: req.method, path: `${target.pathname}${target.search}`, headers: endToEnd(req), timeout: IDLE_MS },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.statusMessage, endToEnd(answer));
        answer.pipe(res);
      },
    );
    upstream.on('timeout', () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('error', (error) => {
      if (!res.headersSent) res.writeHead(502, { 'content-type': 'text/plain' }).end(`code4py proxy: ${target.hostname}:${port}: ${error.message}\n`);
      else res.destroy();
    });
    req.pipe(upstream);
  });

  server.on('connect', (req: IncomingMessage, client: Duplex, head: Buffer) => {
    track(client);
    client.on('error', () => client.destroy());
    const target = hostPort(req.url ?? '');
    if (!target || !note('CONNECT', target.host, target.port)) {
      client.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${target ? refusal(target.host, target.port) : 'bad CONNECT target\n'}`);
      return;
    }
    const upstream: Socket = connect({ host: target.host, port: target.port });
    track(upstream);
    upstream.setTimeout(IDLE_MS, () => upstream.destroy());
    upstream.once('connect', () => {
      client.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client);
      client.pipe(upstream);
    });
    upstream.on('error', (error) => {
      if (upstream.connecting) client.end(`HTTP/1.1 502 Bad Gateway\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\ncode4py proxy: ${target.host}:${target.port}: ${error.message}\n`);
      else client.destroy();
    });
    client.once('close', () => upstream.destroy());
    upstream.once('close', () => client.destroy());
  });
  server.on('connection', (socket: Socket) => {
    track(socket);
    socket.setTimeout(IDLE_MS, () => socket.destroy());
  });
  server.on('clientError', (_error, socket) => socket.destroy());

  // The folder is the caller's alone; the sandbox's user (mapped to ours, or another id under docker)
  // must be able to connect to the socket itself.
  const dir = await mkdtemp(join(tmpdir(), 'code4py-proxy-'));
  const path = join(dir, PROXY_SOCKET);
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(path, () => resolve());
    });
    await chmod(dir, 0o711);
    await chmod(path, 0o666);
  } catch (error) {
    server.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let closed: Promise<void> | null = null;
  return {
    dir,
    socketName: PROXY_SOCKET,
    attempts: () => [...attempts],
    close() {
      closed ??= (async () => {
        const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
        for (const socket of open) socket.destroy();
        server.closeAllConnections();
        await stopped;
        await rm(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}

function key(host: string, port: number): string {
  return `${host.toLowerCase().replace(/^\[(.*)\]$/, '$1')}:${port}`;
}

function refusal(host: string, port: number): string {
  return `code4py proxy: ${host}:${port} is not an allowed package host (the operator allows hosts with CODE4PY_PIP_INDEX_URL, CODE4PY_PIP_EXTRA_INDEX_URL and CODE4PY_ALLOWED_HOSTS)\n`;
}

/** `host:port` of a CONNECT request; IPv6 addresses in brackets. */
export function hostPort(target: string): HostPort | null {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]/\s]+):(\d{1,5})$/.exec(target);
  if (!match?.[1] || !match[2]) return null;
  const port = Number(match[2]);
  if (port < 1 || port > 65535) return null;
  return { host: match[1].replace(/^\[(.*)\]$/, '$1'), port };
}

function absoluteHttpUrl(url: string | undefined): URL | null {
  if (!url || !/^http:\/\//i.test(url)) return null;
  try {
    return new URL(url);
  } catch {
    return null;
  }
}

/** A request's or an answer's headers without the hop-by-hop ones. */
function endToEnd(message: IncomingMessage): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(message.headers)) if (!HOP_HEADERS.has(name) && value !== undefined) headers[name] = value;
  return headers;
}
