/**
 * `npm run bench:intake`: how fast the running bot acknowledges webhook deliveries, side by side in one run
 * with a bare Probot app whose only handler is empty (bench/bare-probot.ts). All are real processes on
 * loopback with the same Probot, the same environment and the same log level:
 *
 * - bare: the baseline, what Probot itself costs (read the body, verify the signature, parse, emit);
 * - all in one: `node dist/src/main.js` as `npm start` runs it by default, CODE4PY_ROLE=all (webhooks and
 *   the worker in one process), the embedded store in a temporary folder, the real sandbox and Ruff;
 * - Redis mode: the same program as CODE4PY_ROLE=intake, with one CODE4PY_ROLE=worker process beside it,
 *   on a redis-server of its own (left out, with the reason, when Debian's redis-server is missing).
 *
 * The bot's GitHub is the OpenAPI-checked FakeGitHub served over HTTP as a GitHub Enterprise host, its
 * model the fake model server; both run in a third process (test/helpers/intake-bench-fakes.ts, via tsx)
 * that also writes the deliveries: signed `issue_comment.created` payloads made from GitHub's example, each
 * `/code4py help` on an issue of its own by a user with read permission. Each becomes a task the worker
 * takes at once; it reads the repository's config and the sender's permission from GitHub and ends without
 * a write (writes are paced at one a second, as GitHub asks, which no burst of 200 could wait for). Before
 * the rounds, a few `issues.labeled` deliveries run whole tasks on the all-in-one bot: model, sandbox,
 * commit, pull request, check run.
 *
 * Bursts of 50 and 200 deliveries are sent all at once, one connection each; a delivery's time to
 * acknowledge runs from its request's start to the end of the response. Every contender gets the same
 * bodies; rounds rotate which one goes first, so the machine's noise hits all; figures are medians over
 * rounds. After a bot's burst the bench waits until its /metrics shows every task done, and says how long
 * that took. Resident memory comes from /proc: VmRSS idle after start, and the peak (VmHWM, reset before
 * each burst) while a burst is taken and processed.
 *
 * Exits 1 when a delivery was not acknowledged with a 2xx, a task was not processed, a label task did not
 * open its pull request, or the fake GitHub saw a request GitHub would refuse. Environment: BENCH_ROUNDS
 * (default 5), BENCH_LABEL_TASKS (default 2), LOG_LEVEL (default info, every server), BENCH_CPU_PROF (a
 * folder: every server writes a V8 CPU profile there, `node --cpu-prof`, to see where the time goes).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { burst, metric, PeakMemory, rss, sleep, startProc, stopProc, taskCounts, untilProcessed, waitReady, type Ack, type Delivery, type Proc } from './intake-tools.js';
import { median, percentile } from './stats.js';

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const SIZES = [50, 200] as const;
const WARMUP = 50;
const TARGET_P99_RATIO = 1.2;
const PROCESS_TIMEOUT_MS = 120_000;

const BenchEnv = z.object({
  BENCH_ROUNDS: z.coerce.number({ error: 'must be a whole number' }).int().min(1).max(50).default(5),
  BENCH_LABEL_TASKS: z.coerce.number({ error: 'must be a whole number' }).int().min(0).max(10).default(2),
  LOG_LEVEL: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], { error: 'must be trace, debug, info, warn, error or fatal' }).default('info'),
  BENCH_CPU_PROF: z.string().min(1).optional(),
});
const FakesReady = z.object({
  githubHost: z.string(),
  modelBaseUrl: z.string(),
  redisUrl: z.string().nullable(),
  redisMissing: z.string().nullable(),
  appId: z.number(),
  privateKey: z.string(),
  payloads: z.string(),
});
const Payloads = z.object({
  labels: z.array(z.object({ event: z.literal('issues'), body: z.string() })),
  helpComments: z.array(z.object({ event: z.literal('issue_comment'), body: z.string() })),
});
const FakesReport = z.object({
  violations: z.array(z.string()),
  requests: z.number(),
  pulls: z.array(z.object({ number: z.number(), state: z.string(), closes: z.string().nullable() })),
  checkRuns: z.array(z.object({ name: z.string(), conclusion: z.string().nullable() })),
});

interface BurstResult {
  readonly p50: number;
  readonly p99: number;
  /** Peak resident memory of each of the contender's processes. */
  readonly peaks: readonly number[];
  /** From the burst's first request until every one of its tasks was done. */
  readonly processedMs?: number;
}

interface Contender {
  readonly title: string;
  /** Takes the deliveries. */
  readonly server: Proc;
  /** Whose memory counts: the server, and the worker beside it in Redis mode. */
  readonly procs: readonly Proc[];
  /** Whose /metrics counts the tasks; none for the bare app. */
  readonly tasksPort?: number;
  sent: number;
  readonly results: Map<number, BurstResult[]>;
}

async function main(): Promise<void> {
  const parsed = BenchEnv.safeParse(Object.fromEntries(Object.entries(process.env).filter(([, v]) => v !== '')));
  if (!parsed.success) throw new Error(`the environment is not usable:\n${parsed.error.issues.map((i) => `  - ${i.path.join('.')}: ${i.message}`).join('\n')}`);
  const { BENCH_ROUNDS: rounds, BENCH_LABEL_TASKS: labelTasks, LOG_LEVEL: logLevel, BENCH_CPU_PROF: profileDir } = parsed.data;
  const helpNeeded = WARMUP + rounds * SIZES.reduce((a, b) => a + b, 0);
  const secret = `bench-${randomUUID()}`;

  const dir = await mkdtemp(join(tmpdir(), 'code4py-bench-intake-'));
  const problems: string[] = [];
  const procs: Proc[] = [];
  let fakes: ChildProcess | undefined;
  let finished = false;
  try {
    // The fakes, Redis and the payloads.
    fakes = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/intake-bench-fakes.ts', dir, String(labelTasks), String(helpNeeded)], { cwd: repo, stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: fakes.stdout! })[Symbol.asyncIterator]();
    const nextLine = async (what: string): Promise<unknown> => {
      const line = await lines.next();
      if (line.done) throw new Error(`the fakes process ended before it sent ${what}`);
      return JSON.parse(line.value) as unknown;
    };
    const ready = FakesReady.parse(await nextLine('its addresses'));
    const payloads = Payloads.parse(JSON.parse(await readFile(ready.payloads, 'utf8')));

    // The servers.
    const common: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      ...(process.env.CODE4PY_SANDBOX ? { CODE4PY_SANDBOX: process.env.CODE4PY_SANDBOX } : {}),
      ...(process.env.CODE4PY_PYTHON ? { CODE4PY_PYTHON: process.env.CODE4PY_PYTHON } : {}),
      APP_ID: String(ready.appId),
      PRIVATE_KEY: ready.privateKey,
      WEBHOOK_SECRET: secret,
      GHE_HOST: ready.githubHost,
      GHE_PROTOCOL: 'http',
      HOST: '127.0.0.1',
      LOG_LEVEL: logLevel,
      // Probot's own logger (the bare app's) writes JSON lines as the bot's does, not pretty text.
      LOG_FORMAT: 'json',
    };
    const model = { OPENAI_API_KEY: 'bench-key', OPENAI_BASE_URL: ready.modelBaseUrl, CODE4PY_MODEL: 'fake-model' };
    const start = async (name: string, script: string, env: NodeJS.ProcessEnv, readyPath: string): Promise<Proc> => {
      const proc = await startProc(name, script, { ...common, ...env }, { cwd: repo, dir, ...(profileDir ? { profileDir } : {}) });
      procs.push(proc);
      await waitReady(proc, readyPath);
      return proc;
    };
    const contender = (title: string, server: Proc, others: Proc[] = [], tasksPort?: number): Contender => ({ title, server, procs: [server, ...others], ...(tasksPort ? { tasksPort } : {}), sent: 0, results: new Map(SIZES.map((s) => [s, []])) });

    const bare = await start('bare', 'dist/bench/bare-probot.js', {}, '/ping');
    const all = await start('all-in-one', 'dist/src/main.js', { CODE4PY_ROLE: 'all', CODE4PY_DB_PATH: join(dir, 'code4py.db'), ...model }, '/readyz');
    const contenders: Contender[] = [contender('bare Probot app (empty handler)', bare), contender('Code4Py, all in one (embedded)', all, [], all.port)];
    const allInOne = contenders[1]!;
    if (ready.redisUrl) {
      const redisEnv = { REDIS_URL: ready.redisUrl };
      const intake = await start('intake', 'dist/src/main.js', { ...redisEnv, CODE4PY_ROLE: 'intake' }, '/readyz');
      const worker = await start('worker', 'dist/src/main.js', { ...redisEnv, CODE4PY_ROLE: 'worker', ...model }, '/readyz');
      contenders.push(contender('Code4Py intake (Redis mode)', intake, [worker], worker.port));
    }
    await sleep(1000);
    const idle = new Map(procs.map((p) => [p, rss(p.child.pid!)]));

    console.log(`code4py bench:intake — ${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores, Node ${process.version}, LOG_LEVEL=${logLevel}`);
    console.log(`${rounds} rounds of bursts of ${SIZES.join(' and ')} signed deliveries to each server, the order rotating; medians over rounds`);
    if (!ready.redisUrl) console.log(`Redis mode left out: ${ready.redisMissing}`);

    const acks: Ack[] = [];
    let next = 0;
    const take = (n: number): Delivery[] => {
      const slice = payloads.helpComments.slice(next, next + n);
      next += n;
      return slice;
    };
    const send = async (c: Contender, deliveries: readonly Delivery[]): Promise<{ answered: Ack[]; processedMs?: number }> => {
      const started = performance.now();
      const answered = await burst(c.server.port, deliveries, secret);
      acks.push(...answered);
      if (c.tasksPort === undefined) return { answered };
      c.sent += deliveries.length;
      const { at } = await untilProcessed(c.tasksPort, c.sent, PROCESS_TIMEOUT_MS);
      return { answered, processedMs: at - started };
    };

    // Warm-up (not measured): JIT, the installation token, the first tasks.
    const warm = take(WARMUP);
    for (const c of contenders) await send(c, warm);

    // Whole tasks on the all-in-one bot: model, sandbox, Git Data API commit, pull request, check run.
    let labelSeconds = 0;
    if (labelTasks > 0) {
      const started = performance.now();
      acks.push(...(await burst(all.port, payloads.labels, secret)));
      allInOne.sent += payloads.labels.length;
      labelSeconds = ((await untilProcessed(all.port, allInOne.sent, 300_000)).at - started) / 1000;
    }

    for (let round = 0; round < rounds; round++) {
      for (const size of SIZES) {
        const deliveries = take(size);
        const order = contenders.map((_, i) => contenders[(i + round) % contenders.length]!);
        for (const c of order) {
          const peaks = c.procs.map((p) => new PeakMemory(p.child.pid!).start());
          const { answered, processedMs } = await send(c, deliveries);
          const times = answered.map((a) => a.ms);
          c.results.get(size)!.push({ p50: percentile(times, 50), p99: percentile(times, 99), peaks: peaks.map((p) => p.stop()), ...(processedMs !== undefined ? { processedMs } : {}) });
          await sleep(250);
        }
      }
    }

    // Checks.
    const failedAcks = acks.filter((a) => a.status < 200 || a.status > 299);
    if (failedAcks.length > 0) problems.push(`${failedAcks.length} of ${acks.length} deliveries were not acknowledged with a 2xx: ${[...new Set(failedAcks.map((a) => a.error ?? String(a.status)))].join(', ')}`);
    const processed: string[] = [];
    for (const c of contenders) {
      if (c.tasksPort === undefined) continue;
      const counts = await taskCounts(c.tasksPort);
      if (counts.done !== c.sent) problems.push(`${c.title}: ${c.sent} tasks sent, ${counts.done} done: ${JSON.stringify(counts.raw)}`);
      const outcomes = (await metric(c.tasksPort, 'code4py_tasks_finished_total')).map((s) => `${s.labels.outcome} ${s.value}`).join(', ');
      processed.push(`${c.title}: ${c.sent} tasks sent, ${counts.done} done (${outcomes})`);
    }
    fakes.stdin!.write('report\n');
    const report = FakesReport.parse(await nextLine('its report'));
    if (report.violations.length > 0) problems.push(`the fake GitHub saw ${report.violations.length} requests GitHub would refuse:\n  - ${report.violations.slice(0, 5).join('\n  - ')}`);
    const opened = report.pulls.filter((p) => p.state === 'open' && p.closes !== null);
    const passed = report.checkRuns.filter((r) => r.conclusion === 'success');
    if (opened.length !== labelTasks || passed.length !== labelTasks) problems.push(`${labelTasks} label tasks opened ${opened.length} pull requests with ${passed.length} passing check runs`);

    // The figures.
    const baseline = contenders[0]!;
    const med = (c: Contender, size: number, pick: (r: BurstResult) => number) => median(c.results.get(size)!.map(pick));
    const cell = (v: number, width: number) => v.toFixed(1).padStart(width);
    console.log(`\nTime to acknowledge, ms (each burst's p50 and p99, median over rounds; ratio: p99 ÷ the bare app's p99)`);
    console.log(`${''.padEnd(34)}${SIZES.map((s) => `burst of ${s}`.padStart(26)).join('')}`);
    console.log(`${''.padEnd(34)}${SIZES.map(() => `${'p50'.padStart(9)}${'p99'.padStart(9)}${'ratio'.padStart(8)}`).join('')}`);
    for (const c of contenders) {
      const cells = SIZES.map((s) => `${cell(med(c, s, (r) => r.p50), 9)}${cell(med(c, s, (r) => r.p99), 9)}${`${(med(c, s, (r) => r.p99) / med(baseline, s, (r) => r.p99)).toFixed(2)}×`.padStart(8)}`);
      console.log(`${c.title.padEnd(34)}${cells.join('')}`);
    }
    console.log(`\nTarget: p99 ≤ ${TARGET_P99_RATIO}× the bare app's`);
    for (const c of contenders.slice(1)) {
      for (const s of SIZES) {
        const ratio = med(c, s, (r) => r.p99) / med(baseline, s, (r) => r.p99);
        const perRound = c.results.get(s)!.map((r, i) => (r.p99 / baseline.results.get(s)![i]!.p99).toFixed(2)).join(' ');
        console.log(`  ${c.title}, burst of ${s}: ${ratio.toFixed(2)}× — ${ratio <= TARGET_P99_RATIO ? 'met' : 'MISSED'} (per round: ${perRound})`);
      }
    }

    console.log('\nProcessing: from a burst\'s first request until /metrics shows every task done (median over rounds)');
    for (const c of contenders.filter((x) => x.tasksPort !== undefined)) {
      console.log(`  ${c.title}: ${SIZES.map((s) => `burst of ${s} in ${med(c, s, (r) => r.processedMs ?? Number.NaN).toFixed(0)} ms`).join(', ')}`);
    }
    if (labelTasks > 0) console.log(`  ${labelTasks} label tasks on the all-in-one bot (model, sandbox, commit, pull request, check run): done in ${labelSeconds.toFixed(1)} s; ${opened.length} pull requests opened, ${passed.length} check runs passed`);
    for (const line of processed) console.log(`  ${line}`);
    console.log(`  the fake GitHub answered ${report.requests} requests`);

    console.log('\nResident memory, MiB (idle after start; peak while a burst is taken and processed, max over rounds)');
    console.log(`${''.padEnd(34)}${'idle'.padStart(8)}${SIZES.map((s) => `burst of ${s}`.padStart(16)).join('')}`);
    for (const c of contenders) {
      c.procs.forEach((p, i) => {
        const peak = (s: number) => Math.max(...c.results.get(s)!.map((r) => r.peaks[i]!));
        const label = i === 0 ? c.title : `  its worker process`;
        console.log(`${label.padEnd(34)}${mib(idle.get(p)!).padStart(8)}${SIZES.map((s) => mib(peak(s)).padStart(16)).join('')}`);
      });
    }
    console.log(`\nDeliveries: ${acks.length} sent, ${acks.length - failedAcks.length} acknowledged with a 2xx.`);
    finished = true;
  } finally {
    await Promise.all(procs.map((p) => stopProc(p, p.name === 'bare' ? 'SIGINT' : 'SIGTERM')));
    fakes?.stdin?.end();
    if (finished && problems.length === 0) await rm(dir, { recursive: true, force: true });
    else console.error(`\nLogs kept in ${dir}`);
  }
  if (problems.length > 0) {
    console.error(`\nFAILED:\n- ${problems.join('\n- ')}`);
    process.exitCode = 1;
  }
}

function mib(bytes: number): string {
  return (bytes / 2 ** 20).toFixed(0);
}

main().catch((error: unknown) => {
  console.error(`bench:intake: ${error instanceof Error ? error.message : String(error)}`);
  process.exitCode = 1;
});
