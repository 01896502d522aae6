import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { getSandbox, type ReadySandbox } from '../../../src/sandbox/select.js';
import { mutationReport } from '../../../src/validate/mutation/assess.js';
import { MutationConfigSchema } from '../../../src/validate/mutation/config.js';
import { survivorsForModel } from '../../../src/validate/mutation/feedback.js';
import { planMutations } from '../../../src/validate/mutation/plan.js';
import { runMutants, startMutants } from '../../../src/validate/mutation/run-mutants.js';
import { runMutationStage } from '../../../src/validate/mutation/stage.js';
import { runTests, type TestRun } from '../../../src/validate/stages/tests.js';
import { writeWorkspace, type Workspace } from '../../../src/validate/workspace.js';
import { processesWith } from '../../helpers/host.js';
import { watchedSandbox } from '../../helpers/validation-ports.js';
import { fingerprint, testedWorkspace, watchMutantProcesses } from './helpers.js';

let ready: ReadySandbox;
beforeAll(async () => {
  ready = await getSandbox('bwrap');
});

const config = (overrides: Record<string, unknown> = {}) => MutationConfigSchema.parse(overrides);

const BOUNDARY = 'def describe(n):\n    if n < 1:\n        return "none"\n    return "some"\n';
const WEAK_TESTS = 'from amount import describe\n\n\ndef test_zero():\n    assert describe(0) == "none"\n\n\ndef test_many():\n    assert describe(5) == "some"\n';
const STRONG_TESTS = `${WEAK_TESTS}\n\ndef test_one_is_some():\n    assert describe(1) == "some"\n`;

async function mutationOf(files: Record<string, string>, overrides: Record<string, unknown> = {}, changedLines?: Map<string, Set<number>>) {
  const { ws, run } = await testedWorkspace(ready, files);
  try {
    const before = await fingerprint(ws.root);
    const result = await runMutationStage({ sandbox: ready.sandbox, workDir: ws.root, files: ws.files, testRun: run, config: config(overrides), changedLines: changedLines ?? null });
    return { ...result, unchanged: JSON.stringify(await fingerprint(ws.root)) === JSON.stringify(before) };
  } finally {
    await ws.dispose();
  }
}

/** Whether a mutation run's Python is up on the host with `folder` mounted as its plan folder. */
async function mutationPythonsWith(folder: string): Promise<boolean> {
  const mounts = await Promise.all((await processesWith('/mutation/plan.json')).map((pid) => readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '')));
  return mounts.some((text) => text.includes(folder));
}

describe('mutation stage', () => {
  it('ends a run started before its plan when its cancel cannot be handed in, instead of letting it wait out its limit', async () => {
    const { ws } = await testedWorkspace(ready, { 'amount.py': BOUNDARY, 'test_amount.py': WEAK_TESTS });
    let planFolder = '';
    const watched = watchedSandbox(ready, (request, run) => {
      planFolder = request.mounts?.find((m) => m.sandbox === '/mutation')?.host ?? planFolder;
      return run(request);
    });
    try {
      const started = await startMutants(watched.sandbox, ws.root, { waitSeconds: 600 });
      expect(planFolder).not.toBe('');
      // Once the run's Python is up with the folder mounted (waiting for its plan), the folder goes: no cancel file can reach it.
      while (!(await mutationPythonsWith(planFolder))) await new Promise((resolve) => setTimeout(resolve, 20));
      await rm(planFolder, { recursive: true });
      await started.cancel();
      expect(await processesWith(planFolder)).toEqual([]);
      expect(existsSync(dirname(planFolder))).toBe(false);
    } finally {
      await ws.dispose();
    }
  });

  it('leaves the boundary mutant of a weak suite alive, and names it on its line and for the model', async () => {
    const { stage, mutation, unchanged } = await mutationOf({ 'amount.py': BOUNDARY, 'test_amount.py': WEAK_TESTS });
    expect(stage.status).toBe('warning');
    const survivors = mutation!.mutants.filter((m) => m.status === 'survived');
    expect(survivors).toContainEqual({ path: 'amount.py', line: 2, operator: 'compare', original: 'if n < 1:', mutated: 'if n <= 1:', status: 'survived' });
    expect(stage.findings).toContainEqual(
      expect.objectContaining({ path: 'amount.py', line: 2, rule: 'mutant-survived', severity: 'warning', message: 'no test fails when line 2 `if n < 1:` becomes `if n <= 1:` (compare)' }),
    );
    expect(survivorsForModel(mutation!)).toContain('- no test fails when line 2 `if n < 1:` becomes `if n <= 1:`');
    expect(mutation!.score).toBeLessThan(100);
    expect(stage.summary).toBe(`mutation score ${mutation!.score!}% (${mutation!.killed} of ${mutation!.killed + mutation!.survived} mutants killed)`);
    expect(unchanged).toBe(true);
  });

  it('runs only the tests that ran the mutated lines, never the whole suite (a module elsewhere that cannot be imported does not matter)', async () => {
    // Two fast tests split between the two workers: a worker left without a test must not run pytest at all
    // (given no test ids, pytest runs the project's whole suite, here one that cannot be collected).
    const files = {
      'amount.py': BOUNDARY,
      'test_amount.py': STRONG_TESTS,
      'tests/__init__.py': '',
      'tests/test_broken.py': 'import a_module_no_one_installed\n\n\ndef test_never():\n    pass\n',
    };
    const ws = await writeWorkspace(Object.entries(files).map(([path, text]) => ({ path, content: Buffer.from(text) })));
    try {
      const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { contexts: true });
      expect(run.counts).toMatchObject({ passed: 3, errors: 1 });
      const { stage, mutation } = await runMutationStage({ sandbox: ready.sandbox, workDir: ws.root, files: ws.files, testRun: run, config: config(), changedLines: null });
      expect(stage.status).toBe('passed');
      expect(mutation).toMatchObject({ score: 100, survived: 0 });
    } finally {
      await ws.dispose();
    }
  });

  it('kills every mutant of a strong suite, and changes no file on disk', async () => {
    const { stage, mutation, unchanged } = await mutationOf({ 'amount.py': BOUNDARY, 'test_amount.py': STRONG_TESTS });
    expect(mutation).toMatchObject({ score: 100, survived: 0, timedOut: 0, notCovered: 0 });
    expect(mutation!.killed).toBe(mutation!.total);
    expect(mutation!.killed).toBeGreaterThanOrEqual(5);
    expect(stage).toMatchObject({ status: 'passed', summary: `mutation score 100% (${mutation!.killed} of ${mutation!.killed} mutants killed)`, findings: [] });
    expect(unchanged).toBe(true);
  });

  it('runs again only the mutants that survived, by their ids: stronger tests kill them', async () => {
    const { ws, run } = await testedWorkspace(ready, { 'amount.py': BOUNDARY, 'test_amount.py': WEAK_TESTS });
    try {
      const first = await runMutationStage({ sandbox: ready.sandbox, workDir: ws.root, files: ws.files, testRun: run, config: config() });
      expect(first.survivors.length).toBe(first.mutation!.survived);
      expect(first.survivors.length).toBeGreaterThan(0);
      await writeFile(join(ws.root, 'test_amount.py'), STRONG_TESTS);
      const stronger = await runTests(ready.sandbox, ws.root, [], 60, undefined, { contexts: true });
      const again = await runMutationStage({ sandbox: ready.sandbox, workDir: ws.root, files: ws.files, testRun: stronger, config: config(), only: first.survivors });
      expect(again.mutation).toMatchObject({ total: first.survivors.length, killed: first.survivors.length, survived: 0 });
      expect(again.mutation!.mutants.map((m) => m.mutated)).toEqual(first.mutation!.mutants.filter((m) => m.status === 'survived').map((m) => m.mutated));
    } finally {
      await ws.dispose();
    }
  });

  it('fails below min_score when told to, with the survivors as errors', async () => {
    const { stage } = await mutationOf({ 'amount.py': BOUNDARY, 'test_amount.py': WEAK_TESTS }, { min_score: 95, fail: true });
    expect(stage.status).toBe('failed');
    expect(stage.summary).toMatch(/^mutation score \d+(\.\d)?% \(\d+ of \d+ mutants killed\) \(below 95%\)$/);
    expect(stage.findings.every((f) => f.severity === 'error')).toBe(true);
  });

  it('mutates only the changed lines when given them', async () => {
    const module = 'def low(n):\n    return n < 1\n\n\ndef high(n):\n    return n > 9\n';
    const tests = 'from limits import high, low\n\n\ndef test_low():\n    assert low(0)\n\n\ndef test_high():\n    assert high(10)\n';
    const { mutation } = await mutationOf({ 'limits.py': module, 'test_limits.py': tests }, {}, new Map([['limits.py', new Set([6])]]));
    expect(mutation!.mutants.length).toBeGreaterThan(0);
    expect(new Set(mutation!.mutants.map((m) => m.line))).toEqual(new Set([6]));
  });

  it('serves the mutant of a src-layout package module imported by its dotted name, and counts lines no test runs', async () => {
    const { mutation } = await mutationOf({
      'src/shop/__init__.py': '',
      'src/shop/price.py': 'def total(items):\n    return sum(items) * 2\n\n\ndef unused(x):\n    return x + 1\n',
      'tests/test_price.py': 'from shop.price import total\n\n\ndef test_total():\n    assert total([1, 2]) == 6\n',
    });
    const total = mutation!.mutants.filter((m) => m.line === 2);
    expect(total.length).toBeGreaterThan(0);
    expect(total.every((m) => m.status === 'killed')).toBe(true);
    expect(mutation!.mutants.filter((m) => m.line === 6).map((m) => m.status)).toEqual(expect.arrayContaining(['notCovered']));
    expect(mutation!.notCovered).toBeGreaterThan(0);
  });

  it('runs no mutant, and says why, when the tests do not pass again on their own (they depend on each other)', async () => {
    const { stage, mutation } = await mutationOf({
      'state.py': 'SEEN = []\n\n\ndef remember(x):\n    SEEN.append(x)\n    return len(SEEN)\n',
      'test_state.py': 'from state import SEEN, remember\n\n\ndef test_first():\n    assert remember(1) == 1\n\n\ndef test_second():\n    assert remember(2) == 2\n    assert SEEN == [1, 2]\n',
    });
    expect(mutation).toBeNull();
    expect(stage).toMatchObject({ status: 'error', summary: 'not run: the tests do not all pass when run again for mutation testing' });
    expect(stage.findings[0]).toMatchObject({ rule: 'mutation-baseline', severity: 'warning' });
    expect(stage.findings[0]?.details).toContain('test_second');
  });

  const COUNTDOWN = {
    'countdown.py': 'def countdown(n):\n    while n > 0:\n        n -= 1\n    return n\n',
    'test_countdown.py': 'from countdown import countdown\n\n\ndef test_countdown():\n    assert countdown(3) == 0\n',
  };

  /** Runs every mutant of COUNTDOWN, two of which loop forever, while the host's /proc is watched. */
  async function loopingRun(ws: Workspace, run: TestRun) {
    const planned = planMutations({ coverageJson: run.coverageJson, cases: run.cases, files: ws.files });
    if (!planned.ok) throw new Error(planned.reason);
    const { result, seen } = await watchMutantProcesses(ws.root, runMutants(ready.sandbox, ws.root, planned.plan, { budgetSeconds: 60 }));
    const looping = result.records.mutants.filter((m) => m.mutated === 'n += 1' || m.mutated === 'n -= 0');
    const childOf = (mutant: { id: number }) => {
      const processes = [...seen.values()].filter((p) => p.name === String(mutant.id));
      expect(processes).toHaveLength(1);
      return processes[0]!;
    };
    return { result, looping, childOf };
  }

  it('times out a mutant that loops forever, counts it, and leaves nothing of it running', async () => {
    const { ws, run } = await testedWorkspace(ready, COUNTDOWN);
    try {
      const { result, looping, childOf } = await loopingRun(ws, run);
      expect(result.failure).toBeNull();
      expect(looping).toHaveLength(2);
      for (const mutant of looping) expect(result.records.results.get(mutant.id)?.status).toBe('timedOut');
      const report = mutationReport(result.records);
      expect(report.timedOut).toBe(2);
      expect(report.score).toBe(100);

      // The host saw each looping child, and saw it end long before the run did: the fork server killed it.
      for (const mutant of looping) {
        const child = childOf(mutant);
        expect(child.lastSeen - child.firstSeen).toBeLessThan(20_000);
        expect(existsSync(`/proc/${child.pid}`) && (await readFile(`/proc/${child.pid}/comm`, 'utf8').catch(() => '')).startsWith('mutant')).toBe(false);
      }
      const left = await Promise.all((await processesWith({ namePrefix: 'mutant ' })).map((pid) => readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '')));
      expect(left.filter((mounts) => mounts.includes(ws.root))).toEqual([]);
    } finally {
      await ws.dispose();
    }
  });

  it('holds a looping mutant in the run\'s cgroup, and removes that cgroup, emptied, when the run ends', async (ctx) => {
    ctx.skip(ready.sandbox.limiter !== 'cgroup', `the sandbox limits with ${ready.sandbox.limiter}, not a cgroup of its own: this host gives it no writable cgroup`);
    const { ws, run } = await testedWorkspace(ready, COUNTDOWN);
    try {
      const { looping, childOf } = await loopingRun(ws, run);
      expect(looping).toHaveLength(2);
      for (const mutant of looping) {
        const child = childOf(mutant);
        expect(child.cgroup).toMatch(/run-/);
        expect(existsSync(child.cgroup!)).toBe(false);
      }
    } finally {
      await ws.dispose();
    }
  });

  it('keeps to its budget: a seeded sample of the mutants is run, and the summary says so', async () => {
    const body = Array.from({ length: 12 }, (_, i) => `def f${i}(x):\n    return x * ${i + 2} + ${i}\n`).join('\n\n');
    const tests = `import time\nfrom many import ${Array.from({ length: 12 }, (_, i) => `f${i}`).join(', ')}\n\n\n${Array.from(
      { length: 12 },
      (_, i) => `def test_f${i}():\n    time.sleep(0.25)\n    assert f${i}(1) == ${i + 2 + i}\n`,
    ).join('\n\n')}`;
    const { ws, run } = await testedWorkspace(ready, { 'many.py': body, 'test_many.py': tests });
    try {
      const started = performance.now();
      const result = await runMutationStage({ sandbox: ready.sandbox, workDir: ws.root, files: ws.files, testRun: run, config: config({ budget_seconds: 6 }) });
      const elapsed = performance.now() - started;
      const mutation = result.mutation!;
      expect(mutation.total).toBeGreaterThanOrEqual(12 * 5);
      expect(mutation.sampled).toBeLessThan(mutation.total);
      expect(mutation.sampled).toBe(mutation.mutants.length);
      expect(mutation.killed + mutation.survived + mutation.timedOut).toBeGreaterThan(0);
      expect(result.stage.summary).toContain(`; ${mutation.sampled} of ${mutation.total} mutants sampled within the 6 s budget`);
      // The budget, plus starting the sandbox and Python: never the ~30 s all the mutants would take.
      expect(elapsed).toBeLessThan(6_000 + 5_000);
    } finally {
      await ws.dispose();
    }
  });
});
