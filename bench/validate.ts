/**
 * `npm run bench:validate`: what validation costs against the project's own bare pytest, side by side in one
 * run (runs alternate between contenders; medians; the machine is noisy).
 *
 * 1. The sandbox against bare python3: `python3 -c pass`.
 * 2. A one-test project: `code4py validate` as a new process (Node, Ruff's WebAssembly, the sandbox), the same
 *    handed to a running `code4py server`, and the pipeline in a warm process (as the bot runs it), against
 *    bare `python3 -m pytest`. Target: the CLI ≤ 3×.
 * 3. A generated 500-test suite: the test stage (sandboxed pytest with coverage of the changed file, per-test
 *    contexts, JUnit and progress), the whole-folder test stage, and `validate --base` with the base's
 *    results computed and with them cached, against bare pytest. Target: the test stage ≤ 1.5×; the cached
 *    base costs nothing the second time.
 * 4. The environment stage (bench/environment.ts): a cache hit makes no index request and costs ≤ 200 ms.
 * 5. HumanEval: each problem's canonical solution validated (the 12 problems in test/fixtures, or the file
 *    BENCH_HUMANEVAL names); every problem's tests must pass.
 *
 * BENCH_ROUNDS (default 7) sets the rounds; BENCH_SKIP=suite,environment,humaneval leaves sections out.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultValidationConfig } from '../src/config/schema.js';
import { problemFiles, readProblems } from '../src/eval/humaneval.js';
import { getSandbox, type ReadySandbox } from '../src/sandbox/select.js';
import { MemoryBaselineCache } from '../src/validate/change/baseline.js';
import { validateChange } from '../src/validate/change/validate-change.js';
import { validateFolder, validateWorkspace } from '../src/validate/pipeline.js';
import { createRuffLinter, type RuffLinter } from '../src/validate/ruff/ruff-linter.js';
import { runTests } from '../src/validate/stages/tests.js';
import { writeWorkspace } from '../src/validate/workspace.js';
import { benchEnvironment } from './environment.js';
import { median, row, sideBySide } from './stats.js';
import { generatedSuite, suiteChange } from './suite.js';

const run = promisify(execFile);
const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const python = '/usr/bin/python3';
const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
const skip = new Set((process.env.BENCH_SKIP ?? '').split(',').filter(Boolean));
/** Bare pytest as the project's CI would run it, with no plugins of the machine's. */
const bareEnv = { ...process.env, PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' };
const bare = (dir: string) => () => run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: dir, env: bareEnv, maxBuffer: 64 * 1024 * 1024 });

const ONE_TEST = [
  { path: 'calc.py', content: Buffer.from('def add(a, b):\n    return a + b\n') },
  { path: 'test_calc.py', content: Buffer.from('from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n') },
];

async function sandboxOverhead(ready: ReadySandbox): Promise<void> {
  const empty = await mkdtemp(join(tmpdir(), 'code4py-bench-'));
  try {
    console.log('1. The sandbox');
    const start = await sideBySide({ bare: () => run(python, ['-c', 'pass']), sandbox: () => ready.sandbox.run({ command: ['python', '-c', 'pass'], workDir: empty }) }, rounds);
    console.log(row('bare python3 -c pass', start.bare!));
    console.log(row('sandboxed python3 -c pass', start.sandbox!, start.bare));
  } finally {
    await rm(empty, { recursive: true, force: true });
  }
}

/** Called if the bench stops early: a server it started must not outlive it. */
let onExit = (): unknown => undefined;
process.on('exit', () => onExit());

/** `code4py server` with `env`, once it says it serves. */
async function startServer(cli: string, env: NodeJS.ProcessEnv): Promise<ChildProcess> {
  const server = spawn(process.execPath, [cli, 'server'], { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let said = '';
  await new Promise<void>((resolve, reject) => {
    server.stderr.on('data', (d: Buffer) => {
      said += d.toString();
      if (said.includes('code4py server: serving')) resolve();
    });
    server.once('close', () => reject(new Error(`code4py server stopped before serving:\n${said}`)));
  });
  return server;
}

async function oneTest(ready: ReadySandbox, linter: RuffLinter): Promise<void> {
  const project = await writeWorkspace(ONE_TEST);
  const cache = await mkdtemp(join(tmpdir(), 'code4py-bench-cache-'));
  const noMutation = join(cache, 'no-mutation.yml');
  await writeFile(noMutation, 'mutation:\n  budget_seconds: 0\n');
  try {
    console.log('\n2. A one-test project: code4py validate against bare pytest');
    const cli = join(repo, 'dist', 'cli', 'code4py.js');
    const config = defaultValidationConfig();
    // A server of its own cache folder: the plain CLI's runs (another cache folder) do not find it.
    const servedEnv = { ...process.env, CODE4PY_CACHE_DIR: join(cache, 'served') };
    const server = await startServer(cli, servedEnv);
    onExit = () => server.kill('SIGTERM');
    const times = await sideBySide(
      {
        pytest: bare(project.root),
        warm: () => validateFolder(project.root, { config, sandbox: ready, linter }),
        cli: () => run(process.execPath, [cli, 'validate', '--json', project.root], { env: { ...process.env, CODE4PY_CACHE_DIR: cache } }),
        cliNoMutation: () => run(process.execPath, [cli, 'validate', '--json', '--config', noMutation, project.root], { env: { ...process.env, CODE4PY_CACHE_DIR: cache } }),
        cliServed: () => run(process.execPath, [cli, 'validate', '--json', project.root], { env: servedEnv }),
      },
      rounds,
    );
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('close', resolve));
    console.log(row('bare python3 -m pytest', times.pytest!));
    console.log(row('validate in a warm process (as the bot runs it)', times.warm!, times.pytest));
    console.log(row('code4py validate, a new process (the CLI; target ≤ 3×)', times.cli!, times.pytest));
    console.log(row('  the same with the mutation stage off (budget_seconds: 0)', times.cliNoMutation!, times.pytest));
    console.log(row('code4py validate with `code4py server` running (target ≤ 3×)', times.cliServed!, times.pytest));
  } finally {
    await project.dispose();
    await rm(cache, { recursive: true, force: true });
  }
}

async function suite(ready: ReadySandbox, linter: RuffLinter): Promise<void> {
  const base = generatedSuite(20, 500);
  const head = suiteChange(base);
  const ws = await writeWorkspace(head);
  try {
    console.log('\n3. A generated suite of 500 tests (501 with the change)');
    const config = defaultValidationConfig();
    const shared = new MemoryBaselineCache();
    const options = { config, sandbox: ready, linter };
    const times = await sideBySide(
      {
        pytest: bare(ws.root),
        stage: () => runTests(ready.sandbox, ws.root, [], 600, undefined, { coverage: { include: ['benchpkg/mod0.py'] }, contexts: true }),
        whole: () => runTests(ready.sandbox, ws.root, [], 600, undefined, { coverage: 'project' }),
        fresh: () => validateChange({ base: { sha: null, files: base }, head }, { ...options, baselines: new MemoryBaselineCache() }),
        cached: () => validateChange({ base: { sha: null, files: base }, head }, { ...options, baselines: shared }),
      },
      rounds,
    );
    console.log(row('bare python3 -m pytest', times.pytest!));
    console.log(row('test stage, change-scoped coverage (target ≤ 1.5×)', times.stage!, times.pytest));
    console.log(row('test stage, whole-folder coverage', times.whole!, times.pytest));
    console.log(row('validate --base, base computed (in-process cache emptied)', times.fresh!, times.pytest));
    console.log(row('validate --base, base cached', times.cached!, times.pytest));
    console.log(row('  what the cached base saves', times.fresh! - times.cached!));
  } finally {
    await ws.dispose();
  }
}

async function humanEval(ready: ReadySandbox): Promise<number> {
  const file = process.env.BENCH_HUMANEVAL ?? join(repo, 'test', 'fixtures', 'humaneval', 'HumanEval.jsonl.gz');
  const problems = await readProblems(file);
  console.log(`\n5. HumanEval: canonical solutions validated in the sandbox (${problems.length} problems from ${file.startsWith(repo) ? file.slice(repo.length + 1) : file})`);
  const linter = createRuffLinter();
  const config = defaultValidationConfig();
  const concurrency = Math.max(1, cpus().length);
  const durations: number[] = [];
  const failures: string[] = [];
  const flagged: string[] = [];
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < problems.length) {
        const problem = problems[next++]!;
        const ws = await writeWorkspace(problemFiles(problem));
        try {
          const t0 = performance.now();
          const report = await validateWorkspace(ws, { config, sandbox: ready, linter });
          durations.push(performance.now() - t0);
          const why = report.stages.filter((s) => s.status === 'failed' || s.status === 'error').map((s) => `${s.name}: ${s.findings[0] ? `${s.findings[0].rule} ${s.findings[0].message}` : s.summary}`);
          if (report.stages.find((s) => s.name === 'tests')?.status !== 'passed') failures.push(`${problem.task_id} (${why.join('; ')})`);
          else if (!report.passed) flagged.push(`${problem.task_id} (${why.join('; ')})`);
        } finally {
          await ws.dispose();
        }
      }
    }),
  );
  await linter.close();
  const wall = performance.now() - started;
  console.log(`  ${problems.length} problems, ${concurrency} at a time: ${(wall / 1000).toFixed(1)} s, ${(problems.length / (wall / 1000)).toFixed(2)} problems/s, median ${median(durations).toFixed(0)} ms per problem`);
  console.log(`  tests passed: ${problems.length - failures.length} of ${problems.length}; validation passed: ${problems.length - failures.length - flagged.length}`);
  for (const failure of failures) console.log(`    TESTS FAILED ${failure}`);
  for (const flag of flagged) console.log(`    flagged ${flag}`);
  return failures.length;
}

async function main(): Promise<void> {
  const ready = await getSandbox('auto', python);
  console.log(`code4py bench:validate — ${cpus().length} cores, Node ${process.version}, sandbox ${ready.sandbox.backend} (${ready.sandbox.limiter} limits), Python ${ready.python.version}, ${rounds} rounds, medians\n`);
  const linter = createRuffLinter();
  try {
    await sandboxOverhead(ready);
    await oneTest(ready, linter);
    if (!skip.has('suite')) await suite(ready, linter);
  } finally {
    await linter.close();
  }
  if (!skip.has('environment')) {
    console.log('\n4. The environment stage');
    const figures = await benchEnvironment({ rounds });
    console.log(`  cache hit: ${figures.hitMedianMs.toFixed(1)} ms (target ≤ 200 ms), ${figures.hitIndexRequests} index requests (target 0)`);
  }
  if (!skip.has('humaneval') && (await humanEval(ready)) > 0) process.exitCode = 1;
}

await main();
