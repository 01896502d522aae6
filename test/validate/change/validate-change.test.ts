import { afterEach, describe, expect, it } from 'vitest';
import { defaultValidationConfig, type ValidationConfig } from '../../../src/config/schema.js';
import type { ReadySandbox } from '../../../src/sandbox/select.js';
import type { RunRequest } from '../../../src/sandbox/types.js';
import { MemoryBaselineCache, type BaselineCache } from '../../../src/validate/change/baseline.js';
import { readGitTree, readWorkingTree } from '../../../src/validate/change/git-tree.js';
import { validateChange } from '../../../src/validate/change/validate-change.js';
import { DEFAULT_OPERATOR_LIMITS } from '../../../src/validate/limits.js';
import type { EnvironmentPort } from '../../../src/validate/pipeline.js';
import type { Finding, Report } from '../../../src/validate/report.js';
import { SYSTEM_RUNTIME } from '../../../src/validate/runtime.js';
import { ADD_MEAN, DEBT_LIBRARY } from '../../helpers/debt-library.js';
import { fixtureRepo, type CommitFiles, type FixtureRepo } from '../../helpers/fixture-repo.js';
import { useValidation, watchedSandbox } from '../../helpers/validation-ports.js';

const { sandbox, linter } = useValidation();
const repos: FixtureRepo[] = [];
afterEach(async () => {
  while (repos.length) await repos.pop()!.cleanup();
});

/** A repository (its history, then `working` on top) read as a change: its last commit and its working tree. */
async function changeOf(commits: CommitFiles[], working: CommitFiles, config: ValidationConfig) {
  const repo = await fixtureRepo({ commits, working });
  repos.push(repo);
  const base = await readGitTree(repo.dir, 'HEAD', config);
  const head = await readWorkingTree(repo.dir, config);
  return { base: { sha: base.sha, files: base.files }, head: head.files, notes: head.notes };
}

/** The test sandbox, telling `onRun` of every request before it runs. */
const watched = (onRun: (request: RunRequest) => void): ReadySandbox => watchedSandbox(sandbox(), (request, run) => (onRun(request), run(request)));

/** The working tree of a repository (its history, then `working` on top) validated against its last commit. */
async function validate(commits: CommitFiles[], working: CommitFiles, options: { config?: ValidationConfig; cache?: BaselineCache; ready?: ReadySandbox } = {}): Promise<Report> {
  const config = options.config ?? defaultValidationConfig();
  return validateChange(await changeOf(commits, working, config), {
    config,
    sandbox: options.ready ?? sandbox(),
    linter: linter(),
    baselines: options.cache ?? new MemoryBaselineCache(),
  });
}

const introduced = (report: Report, stage: string): Finding[] => report.stages.find((s) => s.name === stage)!.findings.filter((f) => f.introduced);
const stageOf = (report: Report, name: string) => report.stages.find((s) => s.name === name);

/** A docstring added to an existing function: a change to existing code that no test can fail before it. */
const DOCUMENTED_SCALE = DEBT_LIBRARY['mathlib/core.py']!.replace('def scale(values, factor=1):\n    return [v * factor for v in values]', 'def scale(values, factor=1):\n    """Each value times factor."""\n    return [v * factor for v in values]');

/** The ADD_MEAN change on DEBT_LIBRARY, with options whose sandbox counts its runs and a baseline cache of its own. */
async function countedRuns() {
  let runs = 0;
  const cache = new MemoryBaselineCache();
  const config = defaultValidationConfig();
  const change = await changeOf([DEBT_LIBRARY], ADD_MEAN, config);
  const options = { config, sandbox: watched(() => runs++), linter: linter(), baselines: cache };
  return { cache, change, options, runs: () => runs };
}

describe('a change on a repository with pre-existing debt', () => {
  it('passes when the change is correct: the debt is there but not counted, the failing test is still failing, and the new tests fail at base', async () => {
    const report = await validate([DEBT_LIBRARY], ADD_MEAN);
    expect(report.passed).toBe(true);
    expect(report.base).toMatch(/^[0-9a-f]{40}$/);
    // The debt is reported as pre-existing, not as the change's.
    const security = stageOf(report, 'security')!;
    expect(security.status).toBe('passed');
    expect(security.findings.filter((f) => f.introduced === false).map((f) => f.rule)).toEqual(expect.arrayContaining(['S307', 'S301']));
    expect(introduced(report, 'lint')).toEqual([]);
    expect(stageOf(report, 'lint')!.findings.some((f) => f.introduced === false && f.rule === 'E401')).toBe(true);
    // The test that failed on the base commit is listed, not counted.
    expect(report.tests.stillFailing).toEqual(['tests/test_core.py::test_evaluate_is_known_broken']);
    expect(report.tests.regressed).toEqual([]);
    expect(stageOf(report, 'tests')!.status).toBe('passed');
    // Fail before, pass after: the new tests cannot even import the new module at the base.
    expect(report.evidence).toEqual([
      { test: 'tests/test_stats.py::test_mean', base: 'error', head: 'passed' },
      { test: 'tests/test_stats.py::test_mean_of_nothing', base: 'error', head: 'passed' },
    ]);
    expect(report.coverage.changedLines).toEqual({ covered: 4, total: 4, percent: 100 });
  });

  it('fails a change that breaks an existing function, naming the regressed tests', async () => {
    const broken = DEBT_LIBRARY['mathlib/core.py']!.replace('return a + b', 'return a - b');
    const report = await validate([DEBT_LIBRARY], { 'mathlib/core.py': broken, 'tests/test_extra.py': 'from mathlib.core import add\n\n\ndef test_add_zero():\n    assert add(4, 0) == 4\n' });
    expect(report.passed).toBe(false);
    expect(report.tests.regressed).toEqual(['tests/test_core.py::test_add', 'tests/test_core.py::test_add_negative']);
    const tests = stageOf(report, 'tests')!;
    expect(tests.status).toBe('failed');
    expect(tests.summary).toContain('2 regressed');
    expect(tests.findings.find((f) => f.message.includes('test_add '))?.message).toMatch(/^regressed \(passed on the base commit\): tests\/test_core\.py::test_add failed/);
  });

  it('fails on a security finding the change introduces, while the same rule elsewhere stays pre-existing', async () => {
    const report = await validate([DEBT_LIBRARY], {
      'mathlib/calc.py': 'def compute(text):\n    return eval(text)\n',
      'tests/test_calc.py': 'from mathlib.calc import compute\n\n\ndef test_compute():\n    assert compute("2 * 3") == 6\n',
    });
    expect(report.passed).toBe(false);
    expect(introduced(report, 'security')).toEqual([expect.objectContaining({ path: 'mathlib/calc.py', line: 2, rule: 'S307', severity: 'error' })]);
    expect(stageOf(report, 'security')!.findings.find((f) => f.path === 'mathlib/core.py')).toMatchObject({ rule: 'S307', introduced: false });
  });

  it('keeps a finding pre-existing when lines are added above it (fingerprints survive line shifts)', async () => {
    const shifted = `"""Core helpers."""\n\nCONSTANT = 1\n\n${DEBT_LIBRARY['mathlib/core.py']!}`;
    const report = await validate([DEBT_LIBRARY], { 'mathlib/core.py': shifted, 'tests/test_constant.py': 'from mathlib.core import CONSTANT\n\n\ndef test_constant():\n    assert CONSTANT == 1\n' });
    const security = stageOf(report, 'security')!;
    expect(security.findings.find((f) => f.rule === 'S307')).toMatchObject({ path: 'mathlib/core.py', line: 17, introduced: false });
    expect(security.status).toBe('passed');
  });

  it('flags tests that pass on the base commit too, when the change modifies existing code', async () => {
    const report = await validate([DEBT_LIBRARY], { 'mathlib/core.py': DOCUMENTED_SCALE, 'tests/test_scale.py': 'from mathlib.core import scale\n\n\ndef test_scale_empty():\n    assert scale([], 2) == []\n' });
    expect(report.evidence).toEqual([{ test: 'tests/test_scale.py::test_scale_empty', base: 'passed', head: 'passed' }]);
    expect(stageOf(report, 'tests')!.findings).toContainEqual(expect.objectContaining({ rule: 'tests-pass-at-base', severity: 'warning', message: 'the test the change adds or modifies passes on the base commit too: it does not exercise what the change does to mathlib/core.py' }));
    expect(report.passed).toBe(true);
  });

  it('says so when every test of a change to existing code was skipped, instead of that they pass on the base', async () => {
    const skipped = 'import pytest\n\nfrom mathlib.core import scale\n\n\n@pytest.mark.skip(reason="later")\ndef test_scale_empty():\n    assert scale([], 2) == []\n';
    const report = await validate([DEBT_LIBRARY], { 'mathlib/core.py': DOCUMENTED_SCALE, 'tests/test_scale.py': skipped });
    expect(report.evidence).toEqual([{ test: 'tests/test_scale.py::test_scale_empty', base: 'skipped', head: 'skipped' }]);
    expect(stageOf(report, 'tests')!.findings.find((f) => f.rule === 'tests-pass-at-base')?.message).toBe('the test the change adds or modifies was skipped: it does not exercise what the change does to mathlib/core.py');
  });

  it('fails a change to the code that comes with no test at all', async () => {
    const changed = DEBT_LIBRARY['mathlib/core.py']!.replace('def evaluate(expression):', 'def negate(x):\n    return -x\n\n\ndef evaluate(expression):');
    const report = await validate([DEBT_LIBRARY], { 'mathlib/core.py': changed });
    expect(report.passed).toBe(false);
    expect(stageOf(report, 'tests')!.findings).toContainEqual(expect.objectContaining({ rule: 'no-tests-for-change', severity: 'error', message: expect.stringContaining('adds or modifies no test') }));
  });

  it('runs the base once per base commit and settings: a second change on the same base reuses its results', async () => {
    const { cache, change, options, runs } = await countedRuns();
    const first = await validateChange(change, options);
    const runsFirst = runs();
    const second = await validateChange(change, options);
    expect(cache.size).toBe(1);
    expect(runsFirst).toBe(4); // the base, the change, the change's tests at the base, and its mutants
    expect(runs() - runsFirst).toBe(3); // no base run the second time
    expect(second.tests.stillFailing).toEqual(first.tests.stillFailing);
  });

  it('runs the base once for two validations of the same base at the same time: the second joins the first', async () => {
    const { cache, change, options, runs } = await countedRuns();
    const [first, second] = await Promise.all([validateChange(change, options), validateChange(change, options)]);
    expect(runs()).toBe(4 + 3); // the base once; each change's own run, evidence run and mutants
    expect(first.tests.stillFailing).toEqual(['tests/test_core.py::test_evaluate_is_known_broken']);
    expect(second.tests.stillFailing).toEqual(first.tests.stillFailing);
    expect(cache.size).toBe(1);
  });

  it("keeps the base apart per operator maxima and per environment (indexes, interpreters), which change the base's results", async () => {
    const cache = new MemoryBaselineCache();
    const config = defaultValidationConfig();
    const change = await changeOf([DEBT_LIBRARY], ADD_MEAN, config);
    const environment = (identity: string): EnvironmentPort => ({ identity, prepare: async () => ({ stage: null, runtime: SYSTEM_RUNTIME, dispose: async () => undefined }) });
    const options = { config, sandbox: sandbox(), linter: linter(), baselines: cache };
    await validateChange(change, { ...options, environment: environment('index A') });
    await validateChange(change, { ...options, environment: environment('index A') });
    expect(cache.size).toBe(1);
    await validateChange(change, { ...options, environment: environment('index B') });
    expect(cache.size).toBe(2);
    await validateChange(change, { ...options, environment: environment('index B'), maxima: { ...DEFAULT_OPERATOR_LIMITS, timeoutSeconds: 60 } });
    expect(cache.size).toBe(3);
  });

  it('runs no evidence run for a change that touches only tests (fail-before/pass-after means something only for changed code)', async () => {
    const commands: string[][] = [];
    const ready = watched((request) => commands.push([...request.command]));
    const report = await validate([DEBT_LIBRARY], { 'tests/test_more.py': 'from mathlib.core import add\n\n\ndef test_add_zero():\n    assert add(4, 0) == 4\n' }, { ready });
    expect(report.passed).toBe(true);
    expect(report.evidence).toEqual([]);
    expect(commands).toHaveLength(2); // the base and the head; no mutants either, as no code changed
  });

  it('lets the mutation run started beside the head wait for the base and evidence runs (each may install its environment, then run its tests)', async () => {
    const wallTimes: number[] = [];
    const ready = watched((request) => {
      if (request.mounts?.some((m) => m.sandbox === '/mutation')) wallTimes.push(request.limits?.wallTimeMs ?? 0);
    });
    const config = defaultValidationConfig();
    const report = await validate([DEBT_LIBRARY], ADD_MEAN, { config, ready });
    // It got its plan and ran its mutants: it did not give up waiting.
    expect(report.mutation).toMatchObject({ total: expect.any(Number) });
    expect(report.mutation!.total).toBeGreaterThan(0);
    expect(stageOf(report, 'mutation')!.status).not.toBe('error');
    expect(wallTimes).toHaveLength(1);
    const settle = 2 * config.environment.timeout_seconds + config.tests.timeout_seconds;
    expect(wallTimes[0]).toBeGreaterThanOrEqual((config.tests.timeout_seconds + settle + config.mutation.budget_seconds) * 1000);
  });

  it("computes the base again for a validation that waited for another's base run, which that one's cancel cut short", async () => {
    const cache = new MemoryBaselineCache();
    const config = defaultValidationConfig();
    const change = await changeOf([DEBT_LIBRARY], ADD_MEAN, config);
    const cancel = new AbortController();
    let firstRan: () => void = () => undefined;
    const firstRunning = new Promise<void>((resolve) => (firstRan = resolve));
    // The first validation starts the base run; the second joins it; the first is cancelled once the second runs.
    const first = validateChange(change, { config, sandbox: watched(firstRan), linter: linter(), baselines: cache, signal: cancel.signal }).catch((error: unknown) => error);
    await firstRunning;
    const second = await validateChange(change, { config, sandbox: watched(() => cancel.abort()), linter: linter(), baselines: cache });
    expect(await first).toBeInstanceOf(Error);
    expect(second.tests.stillFailing).toEqual(['tests/test_core.py::test_evaluate_is_known_broken']);
    expect(second.evidence).toHaveLength(2);
    expect(second.passed).toBe(true);
    expect(cache.size).toBe(1);
  });
});

describe("a repository's own pytest and coverage settings", () => {
  const CHECKS_LIBRARY: Record<string, string> = {
    'pyproject.toml': '[tool.pytest.ini_options]\ntestpaths = ["tests/checks.py"]\n',
    'textkit.py': 'def shout(text):\n    return text.upper() + "!"\n',
    'tests/checks.py': 'from textkit import shout\n\n\ndef test_shout():\n    assert shout("hi") == "HI!"\n\n\ndef test_shout_empty():\n    assert shout("") == "!"\n',
    'bench/test_speed.py': 'def test_speed():\n    raise AssertionError("benchmarks are not part of the suite")\n',
  };

  it('collects what testpaths names (a file default discovery skips) and nothing outside it, so a breaking change fails', async () => {
    const report = await validate([CHECKS_LIBRARY], {
      'textkit.py': 'def shout(text):\n    return text.upper() + "?"\n\n\ndef whisper(text):\n    return text.lower()\n',
      'tests/test_whisper.py': 'from textkit import whisper\n\n\ndef test_whisper():\n    assert whisper("HI") == "hi"\n',
    });
    expect(report.tests.cases.map((c) => c.id)).not.toContain('bench/test_speed.py::test_speed');
    expect(report.tests.regressed).toEqual(['tests/checks.py::test_shout', 'tests/checks.py::test_shout_empty']);
    expect(report.passed).toBe(false);
  });

  it("counts patch coverage with the project's coverage omit: changed lines of omitted files are not measured", async () => {
    const report = await validate(
      [{ '.coveragerc': '[run]\nomit =\n    */generated/*\n', 'pkg/__init__.py': '', 'pkg/util.py': 'def one():\n    return 1\n', 'tests/test_util.py': 'from pkg.util import one\n\n\ndef test_one():\n    assert one() == 1\n' }],
      {
        'pkg/util.py': 'def one():\n    return 1\n\n\ndef two():\n    return 2\n',
        'pkg/generated/__init__.py': '',
        'pkg/generated/tables.py': 'def table():\n    return [1, 2, 3]\n',
        'tests/test_two.py': 'from pkg.util import two\n\n\ndef test_two():\n    assert two() == 2\n',
      },
    );
    expect(report.coverage.changedLines).toEqual({ covered: 2, total: 2, percent: 100 });
    expect(report.coverage.files.map((f) => f.path)).toEqual(['pkg/util.py']);
  });

  it("tells tests from code by the project's python_files (Django's tests.py): evidence, patch coverage, mutants and security rules", async () => {
    const shop: CommitFiles = {
      'pytest.ini': '[pytest]\npython_files = tests.py\n',
      'shop/__init__.py': '',
      'shop/prices.py': 'def total(prices):\n    return sum(prices)\n',
      'shop/tests.py': 'from shop.prices import total\n\n\ndef test_total():\n    assert total([1, 2]) == 3\n',
    };
    const report = await validate([shop], {
      'shop/prices.py': 'def total(prices):\n    return sum(prices)\n\n\ndef discounted(price, percent):\n    return price - price * percent / 100\n',
      'shop/tests.py': `${shop['shop/tests.py']}\n\ndef test_discounted():\n    assert discounted(200, 10) == 180\n`.replace('import total', 'import discounted, total'),
    });
    expect(report.passed).toBe(true);
    // The test the change adds is a test: it fails on the base code (its import) and passes with the change.
    expect(report.evidence).toEqual([{ test: 'shop/tests.py::test_discounted', base: 'error', head: 'passed' }]);
    // Only the code's changed lines count for patch coverage; the tests are not measured, nor mutated.
    expect(report.coverage.changedLines).toEqual({ covered: 2, total: 2, percent: 100 });
    expect(report.coverage.files.map((f) => f.path)).toEqual(['shop/prices.py']);
    expect(new Set(report.mutation!.mutants.map((m) => m.path))).toEqual(new Set(['shop/prices.py']));
    // assert in a test is what tests do: no S101 security finding.
    expect(stageOf(report, 'security')!.findings.filter((f) => f.rule === 'S101')).toEqual([]);
  });
});

describe('honest results under pressure', () => {
  it('runs a test with 100 threads alive at once under the memory limit (an address-space limit would refuse their stacks)', async () => {
    // 100 threads reserve 800 MiB of stack address space, next to pytest and coverage.py: over a 1 GiB
    // RLIMIT_AS, though they use a few MiB of memory. The cgroup's memory limit counts only what is used.
    const report = await validate([{ 'worker.py': 'def double(x):\n    return 2 * x\n' }], {
      'worker.py': 'import threading\n\n\ndef double(x):\n    return 2 * x\n\n\ndef double_all(values):\n    results = [None] * len(values)\n    together = threading.Barrier(len(values), timeout=20)\n\n    def run(i):\n        together.wait()\n        results[i] = double(values[i])\n\n    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(values))]\n    for t in threads:\n        t.start()\n    for t in threads:\n        t.join()\n    return results\n',
      'test_worker.py': 'from worker import double_all\n\n\ndef test_hundred_threads():\n    assert double_all(list(range(100))) == [2 * i for i in range(100)]\n',
    });
    expect(stageOf(report, 'tests')).toMatchObject({ status: 'passed', summary: '1 passed, 0 failed' });
    expect(report.passed).toBe(true);
  });

  it('reports a run killed for memory as an error that says so, keeping the results seen before', async () => {
    const config = { ...defaultValidationConfig(), limits: { ...defaultValidationConfig().limits, memory_mb: 160 } };
    const report = await validate([{ 'app.py': 'X = 1\n' }], {
      'app.py': 'X = 1\n\n\ndef grow(mib):\n    return bytearray(mib * 1024 * 1024)\n',
      'test_app.py': 'from app import X, grow\n\n\ndef test_a_small_one():\n    assert X == 1\n\n\ndef test_z_too_big():\n    blocks = [grow(64) for _ in range(8)]\n    assert len(blocks) == 8\n',
    }, { config });
    const tests = stageOf(report, 'tests')!;
    expect(tests.status).toBe('error');
    expect(tests.summary).toBe('the test run ran out of memory (the memory limit was reached); 1 passed, 0 failed before that');
    expect(tests.findings).toContainEqual(expect.objectContaining({ rule: 'out-of-memory', message: expect.stringContaining('while running test_app.py::test_z_too_big') }));
    expect(report.tests.passed).toBe(1);
    expect(report.passed).toBe(false);
  });
});
