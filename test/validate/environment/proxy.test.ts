import { existsSync } from 'node:fs';
import { createServer as createHttpServer, request, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hostPort, startAllowListProxy, type AllowListProxy } from '../../../src/validate/environment/proxy.js';

/** Every verdict is taken from what the upstream listeners saw, not from what the proxy says of itself. */
const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(closers.splice(0).map((close) => close()));
});

async function echoListener(): Promise<{ port: number; connections: () => number }> {
  let connections = 0;
  const server: Server = createServer((socket) => {
    connections++;
    socket.on('data', (data) => socket.end(`echo:${String(data)}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(() => new Promise((resolve) => server.close(() => resolve())));
  return { port: (server.address() as { port: number }).port, connections: () => connections };
}

async function httpListener(): Promise<{ port: number; paths: string[] }> {
  const paths: string[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    paths.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/plain' }).end('hello from upstream');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  closers.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return { port: (server.address() as { port: number }).port, paths };
}

async function proxyFor(allowed: Array<{ host: string; port: number }>): Promise<AllowListProxy> {
  const proxy = await startAllowListProxy(allowed);
  closers.push(() => proxy.close());
  return proxy;
}

/** Sends raw bytes to the proxy's socket and returns everything it answers until it closes. */
function exchange(proxy: AllowListProxy, text: string, after?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(join(proxy.dir, proxy.socketName));
    let answer = '';
    socket.on('data', (data) => {
      answer += String(data);
      if (after && answer.includes('200 Connection Established') && !answer.includes('echo:')) socket.write(after);
    });
    socket.on('end', () => resolve(answer));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
    socket.write(text);
  });
}

describe('allow-listing proxy', () => {
  it('opens a CONNECT tunnel to an allowed host and port', async () => {
    const upstream = await echoListener();
    const proxy = await proxyFor([{ host: '127.0.0.1', port: upstream.port }]);
    const answer = await exchange(proxy, `CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\nHost: 127.0.0.1:${upstream.port}\r\n\r\n`, 'ping');
    expect(answer).toContain('HTTP/1.1 200 Connection Established');
    expect(answer).toContain('echo:ping');
    expect(upstream.connections()).toBe(1);
    expect(proxy.attempts()).toEqual([{ method: 'CONNECT', host: '127.0.0.1', port: upstream.port, allowed: true }]);
  });

  it('refuses a CONNECT to a port that is not allowed on an allowed host: nothing reaches that port', async () => {
    const allowed = await echoListener();
    const other = await echoListener();
    const proxy = await proxyFor([{ host: '127.0.0.1', port: allowed.port }]);
    const answer = await exchange(proxy, `CONNECT 127.0.0.1:${other.port} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 403 Forbidden/);
    expect(answer).toContain('is not an allowed package host');
    expect(other.connections()).toBe(0);
  });

  it('refuses a host reached by another name than the allowed one', async () => {
    const upstream = await echoListener();
    const proxy = await proxyFor([{ host: 'localhost', port: upstream.port }]);
    const answer = await exchange(proxy, `CONNECT 127.0.0.1:${upstream.port} HTTP/1.1\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 403/);
    expect(upstream.connections()).toBe(0);
  });

  it('forwards a plain-HTTP request to an allowed host and refuses one to any other', async () => {
    const upstream = await httpListener();
    const other = await httpListener();
    const proxy = await proxyFor([{ host: '127.0.0.1', port: upstream.port }]);
    const get = (port: number): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request({ socketPath: join(proxy.dir, proxy.socketName), path: `http://127.0.0.1:${port}/simple/greet/`, headers: { host: `127.0.0.1:${port}` } }, (res) => {
          let body = '';
          res.on('data', (d) => (body += String(d)));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(await get(upstream.port)).toEqual({ status: 200, body: 'hello from upstream' });
    expect(upstream.paths).toEqual(['/simple/greet/']);
    expect((await get(other.port)).status).toBe(403);
    expect(other.paths).toEqual([]);
  });

  it('answers 400 to a request that is not a proxy request', async () => {
    const proxy = await proxyFor([]);
    const answer = await exchange(proxy, 'GET /etc/passwd HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(answer).toMatch(/^HTTP\/1\.1 400/);
  });

  it('removes its socket and folder when closed', async () => {
    const proxy = await startAllowListProxy([]);
    expect(existsSync(join(proxy.dir, proxy.socketName))).toBe(true);
    await proxy.close();
    expect(existsSync(proxy.dir)).toBe(false);
  });
});

describe('CONNECT targets', () => {
  it('reads host:port, IPv6 in brackets, and refuses anything else', () => {
    expect(hostPort('pypi.org:443')).toEqual({ host: 'pypi.org', port: 443 });
    expect(hostPort('[::1]:8080')).toEqual({ host: '::1', port: 8080 });
    expect(hostPort('pypi.org')).toBeNull();
    expect(hostPort('pypi.org:0')).toBeNull();
    expect(hostPort('a/b:443')).toBeNull();
  });
});
