/**
 * `npm run bench:validate`: what the sandbox and the validator cost, measured side by side in one run.
 *
 * 1. The sandbox against bare python3: `python3 -c pass`, and a pytest run of a small project.
 * 2. `code4py validate` against bare `python3 -m pytest` on the same small project: the CLI as a new
 *    process (Ruff's WebAssembly compiled afresh), and the pipeline in a warm process (as the bot runs it).
 * 3. Throughput on HumanEval: each problem's prompt + canonical solution as `solution.py`, its `check` as a
 *    pytest test; every problem must pass.
 *
 * Runs alternate between the compared commands, and medians are quoted, because the machine is noisy.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { defaultValidationConfig } from '../src/config/schema.js';
import { problemFiles, readProblems } from '../src/eval/humaneval.js';
import { getSandbox } from '../src/sandbox/select.js';
import { createRuffLinter } from '../src/validate/ruff/ruff-linter.js';
import { validateFolder, validateWorkspace } from '../src/validate/pipeline.js';
import { writeWorkspace } from '../src/validate/workspace.js';

const run = promisify(execFile);
const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, '..', '..');
const python = '/usr/bin/python3';
const rounds = Number(process.env.BENCH_ROUNDS ?? 15);

const SMALL_PROJECT = [
  { path: 'calc.py', content: Buffer.from('def add(a, b):\n    return a + b\n\n\ndef mul(a, b):\n    return a * b\n') },
  { path: 'test_calc.py', content: Buffer.from('from calc import add, mul\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_mul():\n    assert mul(2, 3) == 6\n') },
];

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function time(fn: () => Promise<unknown>): Promise<number> {
  const started = performance.now();
  await fn();
  return performance.now() - started;
}

/** Runs each contender once per round, in turn, and returns the medians. */
async function sideBySide(contenders: Record<string, () => Promise<unknown>>): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (const fn of Object.values(contenders)) await fn(); // warm the page cache
  for (let i = 0; i < rounds; i++) {
    for (const [name, fn] of Object.entries(contenders)) samples[name]!.push(await time(fn));
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

function row(label: string, ms: number, base?: number): string {
  return `  ${label.padEnd(52)} ${ms.toFixed(1).padStart(8)} ms${base ? `   ${(ms / base).toFixed(2)}×` : ''}`;
}

async function main(): Promise<void> {
  const ready = await getSandbox('auto', python);
  const { sandbox } = ready;
  console.log(`code4py bench:validate — ${cpus().length} cores, Node ${process.version}, sandbox ${sandbox.backend} (${sandbox.limiter} limits), Python ${ready.python.version}, ${rounds} rounds, medians\n`);

  const project = await writeWorkspace(SMALL_PROJECT);
  const empty = await mkdtemp(join(tmpdir(), 'code4py-bench-'));
  const env = { ...process.env, PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' };
  try {
    console.log('1. Sandbox overhead');
    const start = await sideBySide({
      bare: () => run(python, ['-c', 'pass']),
      sandbox: () => sandbox.run({ command: ['python', '-c', 'pass'], workDir: empty }),
    });
    console.log(row('bare python3 -c pass', start.bare!));
    console.log(row('sandboxed python3 -c pass', start.sandbox!, start.bare));
    console.log(row('  fixed cost of the sandbox per run', start.sandbox! - start.bare!));
    const pytest = await sideBySide({
      bare: () => run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider', project.root], { cwd: project.root, env }),
      sandbox: () => sandbox.run({ command: ['python', '-m', 'pytest', '-q', '-p', 'no:cacheprovider', '/work'], workDir: project.root, env: { PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' } }),
    });
    console.log(row('bare python3 -m pytest (small project)', pytest.bare!));
    console.log(row('sandboxed python3 -m pytest (small project)', pytest.sandbox!, pytest.bare));

    console.log('\n2. code4py validate against bare pytest (small project)');
    const cli = join(repo, 'dist', 'src', 'cli.js');
    const linter = createRuffLinter();
    const config = defaultValidationConfig();
    const validation = await sideBySide({
      pytest: () => run(python, ['-m', 'pytest', '-q', '-p', 'no:cacheprovider'], { cwd: project.root }),
      warm: () => validateFolder(project.root, { config, sandbox: ready, linter }),
      cli: () => run(process.execPath, [cli, 'validate', '--json', project.root]),
    });
    await linter.close();
    console.log(row('bare python3 -m pytest', validation.pytest!));
    console.log(row('validate, in a warm process (as the bot runs it)', validation.warm!, validation.pytest));
    console.log(row('code4py validate, a new process (CLI)', validation.cli!, validation.pytest));

    console.log('\n3. HumanEval: canonical solutions validated in the sandbox');
    const problems = await readProblems(join(repo, '..', 'shared', 'data', 'HumanEval.jsonl.gz'));
    const limit = Number(process.env.BENCH_HUMANEVAL_LIMIT ?? problems.length);
    const chosen = problems.slice(0, limit);
    const heLinter = createRuffLinter();
    const concurrency = Math.max(1, cpus().length);
    const durations: number[] = [];
    /** Problems whose canonical solution failed its own tests: the validator is wrong about them. */
    const failures: string[] = [];
    /** Problems whose tests passed but that another stage (e.g. security) failed. */
    const flagged: string[] = [];
    const started = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (next < chosen.length) {
          const problem = chosen[next++]!;
          const ws = await writeWorkspace(problemFiles(problem));
          try {
            const t0 = performance.now();
            const report = await validateWorkspace(ws, { config, sandbox: ready, linter: heLinter });
            durations.push(performance.now() - t0);
            const why = report.stages
              .filter((s) => s.status === 'failed' || s.status === 'error')
              .map((s) => `${s.name}: ${s.findings[0] ? `${s.findings[0].rule} ${s.findings[0].message}` : s.summary}`);
            const testsPassed = report.stages.find((s) => s.name === 'tests')?.status === 'passed';
            if (!testsPassed) failures.push(`${problem.task_id} (${why.join('; ')})`);
            else if (!report.passed) flagged.push(`${problem.task_id} (${why.join('; ')})`);
          } finally {
            await ws.dispose();
          }
        }
      }),
    );
    await heLinter.close();
    const wall = performance.now() - started;
    console.log(`  ${chosen.length} problems, ${concurrency} at a time: ${(wall / 1000).toFixed(1)} s, ${(chosen.length / (wall / 1000)).toFixed(2)} problems/s, median ${median(durations).toFixed(0)} ms per problem`);
    console.log(`  tests passed: ${chosen.length - failures.length} of ${chosen.length}`);
    for (const failure of failures) console.log(`    TESTS FAILED ${failure}`);
    console.log(`  validation passed: ${chosen.length - failures.length - flagged.length} of ${chosen.length}`);
    for (const flag of flagged) console.log(`    flagged ${flag}`);

    console.log('\nTargets: sandbox ≤ 1.1× bare python, validate ≤ 1.5× bare pytest, the tests of every HumanEval problem pass.');
    if (failures.length > 0) process.exitCode = 1;
  } finally {
    await project.dispose();
    await rm(empty, { recursive: true, force: true });
  }
}

await main();
