import { createServer, type Server } from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { samples } from '../../bench/intake-tools.js';
import { opsHandler } from '../../src/ops/http.js';
import { createLogger } from '../../src/ops/log.js';
import { Metrics } from '../../src/ops/metrics.js';
import { useRig, ANALYSIS, SOLUTION } from '../e2e/setup.js';

/**
 * Operations: the Prometheus metrics a real task moves, the health and readiness endpoints, the daily
 * token budget per installation, and logs that never carry a secret.
 */

let metrics: Metrics;
let budget: number | undefined;
const rig = useRig({
  bot: (queue) => {
    metrics = new Metrics(() => queue.counts());
    // Read per task, so a test can set it after the rig is made.
    return {
      metrics,
      budget: {
        store: queue,
        get dailyTokens() {
          return budget;
        },
      },
    };
  },
});

let server: Server | undefined;
afterEach(async () => {
  budget = undefined;
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

async function serve(handler: ReturnType<typeof opsHandler>): Promise<string> {
  server = createServer((req, res) => {
    void handler(req, res).then((answered) => answered || res.writeHead(404).end());
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** The value of the sample of `name` whose labels include `labels`, or undefined. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  return samples(text, name).find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

describe('metrics', () => {
  it('count what a real task did: the delivery, the task, model tokens, sandbox runs and GitHub calls', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    const issue = rig.addIssue({ title: 'Count words', body: 'Add count_words(text).' });
    await rig.label(issue);
    await rig.settle();
    expect(rig.pulls()).toHaveLength(1);

    const url = await serve(opsHandler(metrics, { check: async () => null }));
    const response = await fetch(`${url}/metrics`);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(sample(text, 'code4py_deliveries_total', { event: 'issues' })).toBe(1);
    expect(sample(text, 'code4py_intake_total', { trigger: 'label', result: 'queued' })).toBe(1);
    expect(sample(text, 'code4py_tasks_finished_total', { outcome: 'pull-request' })).toBe(1);
    expect(sample(text, 'code4py_tasks', { state: 'done' })).toBe(1);
    expect(sample(text, 'code4py_model_calls_total', { call: 'analysis', result: 'ok' })).toBe(1);
    expect(sample(text, 'code4py_model_calls_total', { call: 'solution', result: 'ok' })).toBe(1);
    expect(sample(text, 'code4py_model_tokens_total', { kind: 'prompt' })).toBeGreaterThan(0);
    expect(sample(text, 'code4py_model_tokens_total', { kind: 'completion' })).toBeGreaterThan(0);
    // The repository map and the validation each ran in the sandbox.
    expect(sample(text, 'code4py_sandbox_runs_total', { outcome: 'exited' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'code4py_stage_duration_seconds_count', { stage: 'sandbox' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'code4py_stage_duration_seconds_count', { stage: 'task' })).toBe(1);
    // Every request of the installation's Octokit (the app's own token request is not one of them).
    const created = rig.github.requests.filter((r) => r.method === 'POST' && r.status === 201 && !r.path.endsWith('/access_tokens'));
    expect(created.length).toBeGreaterThan(0);
    expect(sample(text, 'code4py_github_api_calls_total', { method: 'POST', status: '201' })).toBe(created.length);
    expect(sample(text, 'code4py_process_resident_memory_bytes')).toBeGreaterThan(0);
  });

  it('the GitHub rate limit gauge follows the x-ratelimit-remaining header', async () => {
    const metrics_ = new Metrics();
    const hooks: Array<(response: { status: number; headers: Record<string, unknown> }, options: { method: string }) => void> = [];
    metrics_.github({ hook: { after: (_n, hook) => hooks.push(hook), error: () => undefined } }, 99);
    hooks[0]!({ status: 200, headers: { 'x-ratelimit-remaining': '4321' } }, { method: 'GET' });
    const text = (await metrics_.render()).body;
    expect(sample(text, 'code4py_github_rate_limit_remaining', { installation: '99' })).toBe(4321);
    expect(sample(text, 'code4py_github_api_calls_total', { method: 'GET', status: '200' })).toBe(1);
  });
});

describe('health and readiness', () => {
  it('/healthz answers while the process lives; /readyz says why it is not ready; other paths are left to others', async () => {
    let reason: string | null = null;
    const url = await serve(opsHandler(new Metrics(), { check: async () => reason }));
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([200, { status: 'ready' }]);
    reason = 'shutting down';
    const notReady = await fetch(`${url}/readyz`);
    expect([notReady.status, await notReady.json()]).toEqual([503, { status: 'unavailable', reason: 'shutting down' }]);
    expect((await fetch(`${url}/elsewhere`)).status).toBe(404);
  });
});

describe('the daily token budget per installation', () => {
  it('counts the tokens a task spent against its installation, and over the budget says so on the issue without calling the model', async () => {
    budget = 1;
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    const first = rig.addIssue({ title: 'Count words', body: 'Add count_words(text).' });
    await rig.label(first);
    await rig.settle();
    // The first task's first call was allowed (nothing spent yet); then the day's budget was gone.
    expect(rig.model.bodies).toHaveLength(1);
    const spent = rig.queue.tokensSpentToday(4242);
    expect(spent).toBeGreaterThan(0);

    const second = rig.addIssue({ title: 'Another', body: 'More.' });
    await rig.label(second);
    await rig.settle();
    expect(rig.model.bodies).toHaveLength(1);
    const said = rig.botComments(second).map((c) => c.body).join('\n');
    expect(said).toContain(`this installation has used ${spent.toLocaleString('en-US')} model tokens today, its daily budget is 1`);
    expect(said).toContain('resets at 00:00 UTC');
    expect(rig.pulls()).toHaveLength(0);
  });
});

/** A log destination that keeps what is written to it. */
function capture(): { destination: Writable; text: () => string } {
  let out = '';
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      out += chunk.toString();
      done();
    },
  });
  return { destination, text: () => out };
}

describe('logs', () => {
  it('are JSON lines that carry task and delivery ids, with credentials blanked by field and by value', () => {
    const { destination, text } = capture();
    const secret = 'webhook-secret-value-123456';
    const log = createLogger({ secrets: [secret], destination });
    log.info({ taskId: 't1', deliveryId: 'd1', token: 'ghs_abcdefghijklmnopqrstuvwxyz0123456789', headers: { authorization: 'token xyz' } }, 'task started');
    log.warn({ taskId: 't1', error: `the server said ${secret} and sk-proj-ABCDEFGHIJKLMNOPQRSTUVWXYZ012345` }, 'task failed');
    const out = text();
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toMatchObject({ msg: 'task started', taskId: 't1', deliveryId: 'd1', token: '[REDACTED]', headers: { authorization: '[REDACTED]' } });
    expect(lines[1]).toMatchObject({ msg: 'task failed', taskId: 't1', error: 'the server said [REDACTED] and [REDACTED]' });
    expect(out).not.toContain(secret);
    expect(out).not.toContain('ghs_abc');
    expect(out).not.toContain('sk-proj-ABC');
  });

  it('are one readable line per entry in the pretty format (a terminal), with credentials blanked the same way', () => {
    const { destination, text } = capture();
    const secret = 'webhook-secret-value-123456';
    const log = createLogger({ secrets: [secret], destination, format: 'pretty', color: false });
    log.info({ taskId: 't1', token: 'ghs_abcdefghijklmnopqrstuvwxyz0123456789' }, 'task started');
    log.warn({ error: `the server said ${secret}` }, 'task failed');
    const out = text();
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\] INFO \(code4py\): task started\n {4}taskId: "t1"\n {4}token: "\[REDACTED\]"$/m);
    expect(out).toMatch(/^\[\d\d:\d\d:\d\d\] WARN \(code4py\): task failed\n {4}error: "the server said \[REDACTED\]"$/m);
    expect(() => JSON.parse(out.split('\n')[0]!)).toThrow();
    expect(out).not.toContain(secret);
    expect(out).not.toContain('ghs_abc');
  });
});
