/**
 * The parts of `npm run bench:intake` (bench/intake.ts) that are not the plan: server processes, signed
 * bursts, the bot's task counts from /metrics, resident memory from /proc, percentiles.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { sign } from '@octokit/webhooks-methods';
import { randomUUID } from 'node:crypto';
import { openSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { join } from 'node:path';

// ---- processes ----

export interface Proc {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  /** Standard output and error (the server's JSON log lines). */
  readonly log: string;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no free port'))));
    });
  });
}

/** `node <script>` with only `env` (and PORT), logging into `<dir>/<name>.log`; with `profileDir`, under `--cpu-prof`. */
export async function startProc(name: string, script: string, env: NodeJS.ProcessEnv, options: { cwd: string; dir: string; profileDir?: string }): Promise<Proc> {
  const port = await freePort();
  const log = join(options.dir, `${name}.log`);
  const fd = openSync(log, 'a');
  const profile = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`, `--cpu-prof-name=${name}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, script], { cwd: options.cwd, env: { ...env, PORT: String(port) }, stdio: ['ignore', fd, fd] });
  return { name, child, port, log };
}

export async function waitReady(proc: Proc, path: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (proc.child.exitCode !== null) throw new Error(`${proc.name} exited with ${proc.child.exitCode}:\n${tail(proc.log)}`);
    const ok = await fetch(`http://127.0.0.1:${proc.port}${path}`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`${proc.name} did not answer ${path} within 30 s:\n${tail(proc.log)}`);
}

/** Stops a process the way it stops gracefully (so CPU profiles get written), then for good after 10 s. */
export async function stopProc(proc: Proc, signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
  if (proc.child.exitCode !== null || proc.child.signalCode !== null) return;
  const exited = new Promise((resolve) => proc.child.once('exit', resolve));
  proc.child.kill(signal);
  const late = setTimeout(() => proc.child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(late);
}

export function tail(path: string, lines = 20): string {
  try {
    return readFileSync(path, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- load ----

export interface Delivery {
  readonly event: string;
  readonly body: string;
}

export interface Ack {
  readonly status: number;
  readonly ms: number;
  readonly error?: string;
}

/**
 * Sends every delivery at once, each on its own connection as GitHub opens them, signed beforehand, and
 * times each from the request's start until its response has ended.
 */
export async function burst(port: number, deliveries: readonly Delivery[], secret: string): Promise<Ack[]> {
  const prepared = await Promise.all(
    deliveries.map(async (d) => {
      const body = Buffer.from(d.body);
      const signature = await sign(secret, d.body);
      return { body, headers: { 'content-type': 'application/json', 'content-length': String(body.length), 'x-github-event': d.event, 'x-github-delivery': randomUUID(), 'x-hub-signature-256': signature } };
    }),
  );
  return Promise.all(
    prepared.map(
      ({ body, headers }) =>
        new Promise<Ack>((resolve) => {
          const started = performance.now();
          const req = httpRequest({ host: '127.0.0.1', port, path: '/api/github/webhooks', method: 'POST', headers, agent: false }, (res) => {
            res.resume();
            res.on('end', () => resolve({ status: res.statusCode ?? 0, ms: performance.now() - started }));
          });
          req.on('error', (error) => resolve({ status: 0, ms: performance.now() - started, error: error.message }));
          req.end(body);
        }),
    ),
  );
}

// ---- what the bot reports on /metrics ----

/** The samples of one metric in Prometheus's text format, with their labels. */
export function samples(text: string, metric: string): Array<{ labels: Record<string, string>; value: number }> {
  const line = new RegExp(`^${metric}(?:\\{([^}]*)\\})? (\\S+)$`);
  const found: Array<{ labels: Record<string, string>; value: number }> = [];
  for (const row of text.split('\n')) {
    const match = line.exec(row);
    if (!match) continue;
    const labels = Object.fromEntries([...(match[1] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1]!, m[2]!]));
    found.push({ labels, value: Number(match[2]) });
  }
  return found;
}

export async function metric(port: number, name: string): Promise<Array<{ labels: Record<string, string>; value: number }>> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  return samples(text, name);
}

/** Tasks by how they ended, from `code4py_tasks` (the embedded store's states, or BullMQ's in Redis mode). */
export interface TaskCounts {
  readonly done: number;
  readonly failed: number;
  readonly pending: number;
  readonly raw: Record<string, number>;
}

export async function taskCounts(port: number): Promise<TaskCounts> {
  const raw = Object.fromEntries((await metric(port, 'code4py_tasks')).map((s) => [s.labels.state ?? '?', s.value]));
  let done = 0;
  let failed = 0;
  let pending = 0;
  for (const [state, n] of Object.entries(raw)) {
    if (state === 'done' || state === 'completed') done += n;
    else if (state === 'failed' || state === 'cancelled') failed += n;
    else pending += n;
  }
  return { done, failed, pending, raw };
}

/** Waits until `expected` tasks have ended and none waits or runs; returns when that was first seen. */
export async function untilProcessed(port: number, expected: number, timeoutMs: number): Promise<{ at: number; counts: TaskCounts }> {
  const end = performance.now() + timeoutMs;
  for (;;) {
    const counts = await taskCounts(port);
    if (counts.done + counts.failed >= expected && counts.pending === 0) return { at: performance.now(), counts };
    if (performance.now() > end) throw new Error(`tasks not processed within ${timeoutMs / 1000} s: ${expected} expected, the store says ${JSON.stringify(counts.raw)}`);
    await sleep(50);
  }
}

// ---- memory ----

export function rss(pid: number, field: 'VmRSS' | 'VmHWM' = 'VmRSS'): number {
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) * 1024 : Number.NaN;
}

/** A process's peak resident memory over a span: the kernel's high-water mark, reset at the start (`clear_refs` 5). */
export class PeakMemory {
  private sampled = 0;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly pid: number) {}

  start(): this {
    try {
      writeFileSync(`/proc/${this.pid}/clear_refs`, '5');
    } catch {
      // The high-water mark cannot be reset here: sample VmRSS every 20 ms instead.
      this.sampled = rss(this.pid);
      this.timer = setInterval(() => (this.sampled = Math.max(this.sampled, rss(this.pid))), 20);
    }
    return this;
  }

  stop(): number {
    if (!this.timer) return rss(this.pid, 'VmHWM');
    clearInterval(this.timer);
    this.timer = undefined;
    return Math.max(this.sampled, rss(this.pid));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
