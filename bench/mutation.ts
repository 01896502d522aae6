/**
 * `npm run bench:mutation`: mutants per second on a small module, on the machine's cores, measured side by
 * side in one run.
 *
 * - fork server: the mutation stage as it runs (python/mutate.py in ONE sandbox run; each mutant served to a
 *   forked child through an import hook, as many at once as there are cores).
 * - naive loop: the same mutants, one sandbox run per mutant (Python started and pytest imported afresh for
 *   each), as many at once as there are cores.
 *
 * Rounds alternate between the two, and medians are quoted, because the machine is shared and noisy. The
 * CPU time per mutant (all processes of the fork server's run) is quoted too: it does not depend on how busy
 * the machine is.
 */
import { availableParallelism, loadavg } from 'node:os';
import { getSandbox } from '../src/sandbox/select.js';
import { mutationReport } from '../src/validate/mutation/assess.js';
import { planMutations, type MutationPlan } from '../src/validate/mutation/plan.js';
import type { MutationRecords } from '../src/validate/mutation/records.js';
import { runMutants } from '../src/validate/mutation/run-mutants.js';
import type { Sandbox } from '../src/sandbox/types.js';
import { runTests } from '../src/validate/stages/tests.js';
import { writeWorkspace } from '../src/validate/workspace.js';
import { median } from './stats.js';

const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const workers = availableParallelism();

/** A small module of the kind the bot writes, and tests that check most of it. */
const MODULE = `"""Small text and number helpers."""


def clamp(n, low, high):
    if n < low:
        return low
    if n > high:
        return high
    return n


def mean(values):
    if not values:
        raise ValueError("empty")
    return sum(values) / len(values)


def word_count(text):
    counts = {}
    for word in text.lower().split():
        word = word.strip(".,!?")
        if not word:
            continue
        counts[word] = counts.get(word, 0) + 1
    return counts


def first_over(values, limit):
    for i, value in enumerate(values):
        if value > limit:
            return i
    return -1


def grade(score):
    if score >= 90:
        return "A"
    if score >= 75 and score < 90:
        return "B"
    return "C"


def running_total(values):
    total = 0
    out = []
    for v in values:
        total += v * 1
        out.append(total)
    return out
`;

const TESTS = `import pytest

from helpers import clamp, first_over, grade, mean, running_total, word_count


def test_clamp():
    assert clamp(5, 0, 10) == 5
    assert clamp(-1, 0, 10) == 0
    assert clamp(11, 0, 10) == 10


def test_mean():
    assert mean([1, 2, 3]) == 2
    with pytest.raises(ValueError):
        mean([])


def test_word_count():
    assert word_count("The cat, the hat!") == {"the": 2, "cat": 1, "hat": 1}


def test_first_over():
    assert first_over([1, 5, 9], 4) == 1
    assert first_over([1], 4) == -1


def test_grade():
    assert grade(95) == "A"
    assert grade(80) == "B"
    assert grade(10) == "C"


def test_running_total():
    assert running_total([1, 2, 3]) == [1, 3, 6]
`;


/** All mutants in one sandbox run. */
async function forkServer(sandbox: Sandbox, workDir: string, plan: MutationPlan): Promise<{ ms: number; ran: number; cpu: number; statuses: Map<number, string>; records: MutationRecords }> {
  const started = performance.now();
  const run = await runMutants(sandbox, workDir, plan, { budgetSeconds: 600, workers });
  const ms = performance.now() - started;
  if (run.failure) throw new Error(run.failure);
  const statuses = new Map([...run.records.results].map(([id, r]) => [id, r.status as string]));
  return { ms, ran: run.records.results.size, cpu: run.records.done?.cpuSeconds ?? NaN, statuses, records: run.records };
}

/** The same mutants, one sandbox run (one new Python, one pytest import) each, `workers` at a time. */
async function naiveLoop(sandbox: Sandbox, workDir: string, plan: MutationPlan, ids: readonly number[]): Promise<{ ms: number; ran: number; statuses: Map<number, string> }> {
  const statuses = new Map<number, string>();
  const started = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: workers }, async () => {
      while (next < ids.length) {
        const id = ids[next++]!;
        const run = await runMutants(sandbox, workDir, plan, { budgetSeconds: 120, workers: 1, only: [id], baseline: false });
        if (run.failure) throw new Error(run.failure);
        const result = run.records.results.get(id);
        if (result) statuses.set(id, result.status);
      }
    }),
  );
  return { ms: performance.now() - started, ran: statuses.size, statuses };
}

async function main(): Promise<void> {
  const ready = await getSandbox('auto');
  const { sandbox } = ready;
  const ws = await writeWorkspace([
    { path: 'helpers.py', content: Buffer.from(MODULE) },
    { path: 'test_helpers.py', content: Buffer.from(TESTS) },
  ]);
  try {
    const tested = await runTests(sandbox, ws.root, [], 60, undefined, { contexts: true });
    if (tested.tests.status !== 'passed') throw new Error(`the bench's tests must pass: ${tested.tests.summary}`);
    const planned = planMutations({ coverageJson: tested.coverageJson, cases: tested.cases, files: ws.files });
    if (!planned.ok) throw new Error(planned.reason);
    const plan = planned.plan;

    const first = await forkServer(sandbox, ws.root, plan);
    const ids = [...first.statuses.keys()].sort((a, b) => a - b);
    const score = mutationReport(first.records).score;
    console.log(
      `code4py bench:mutation — ${workers} cores (load ${loadavg()[0]!.toFixed(1)}), Node ${process.version}, sandbox ${sandbox.backend} (${sandbox.limiter} limits), Python ${ready.python.version}, pytest ${ready.python.pytest}`,
    );
    console.log(`small module: ${MODULE.split('\n').length} lines, ${ids.length} mutants run by ${tested.cases.length} tests (mutation score ${score}%), ${rounds} rounds, medians\n`);

    const rates = { fork: [] as number[], naive: [] as number[] };
    const cpu: number[] = [];
    let agree = 0;
    for (let round = 0; round < rounds; round++) {
      const fork = await forkServer(sandbox, ws.root, plan);
      const naive = await naiveLoop(sandbox, ws.root, plan, ids);
      rates.fork.push(fork.ran / (fork.ms / 1000));
      rates.naive.push(naive.ran / (naive.ms / 1000));
      cpu.push(fork.cpu / fork.ran);
      agree = ids.filter((id) => fork.statuses.get(id) === naive.statuses.get(id)).length;
      console.log(`  round ${round + 1}: fork server ${rates.fork.at(-1)!.toFixed(1)}/s, naive loop ${rates.naive.at(-1)!.toFixed(1)}/s`);
    }
    const fork = median(rates.fork);
    const naive = median(rates.naive);
    console.log('');
    console.log(`  ${'fork server, one sandbox run'.padEnd(50)} ${fork.toFixed(1).padStart(6)} mutants/s   ${(median(cpu) * 1000).toFixed(0)} ms CPU per mutant`);
    console.log(`  ${'naive loop, one sandbox run per mutant'.padEnd(50)} ${naive.toFixed(1).padStart(6)} mutants/s`);
    console.log(`  ${'ratio'.padEnd(50)} ${(fork / naive).toFixed(1).padStart(6)}×`);
    // CPU time does not depend on how busy the machine is: what the cores could do if the run had them to itself.
    console.log(`  ${`fork server on ${workers} idle cores (from its CPU time)`.padEnd(50)} ${(workers / median(cpu)).toFixed(1).padStart(6)} mutants/s`);
    console.log(`  ${'same status both ways (last round)'.padEnd(50)} ${`${agree} of ${ids.length}`.padStart(6)}`);
    console.log(`  ${'target'.padEnd(50)} ${'20.0'.padStart(6)} mutants/s: ${fork >= 20 ? 'met' : 'NOT met'} (load ${loadavg()[0]!.toFixed(1)} at the end)`);
  } finally {
    await ws.dispose();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exitCode = 1;
});
