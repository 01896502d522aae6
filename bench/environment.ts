/**
 * `npm run bench:environment`: what the environment stage costs, measured side by side in one run, offline
 * (a PEP 503 index of fixture wheels on loopback, the real sandbox and pip).
 *
 * 1. A cache miss (the environment and the project's editable layer built), once.
 * 2. A cache hit (the same project in a new work folder), every round: its median must stay ≤ 200 ms and
 *    it must make no request to the index. Beside it, the stage when nothing is declared (skipped) and the
 *    sandbox's fixed cost per run, and a hit in a new process (the interpreter's facts read from the cache).
 * 3. pip started from Debian's wheel against pip unpacked (what an install run does), `pip --version` in
 *    the sandbox.
 *
 * `benchEnvironment()` is exported for bench:validate.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ValidationConfigSchema } from '../src/config/schema.js';
import { getSandbox, type ReadySandbox } from '../src/sandbox/select.js';
import { readEnvironmentSettings, type EnvironmentSettings } from '../src/validate/environment/env.js';
import { findPipWheel, unpackedPip } from '../src/validate/environment/pip-context.js';
import { prepareEnvironment } from '../src/validate/environment/prepare.js';
import { writeWorkspace } from '../src/validate/workspace.js';
import { buildWheels, debianWheels, servePackageIndex } from '../test/helpers/package-index.js';
import { median, row, timed } from './stats.js';

export interface EnvironmentBenchFigures {
  readonly missMs: number;
  readonly missIndexRequests: number;
  readonly hitMedianMs: number;
  readonly hitIndexRequests: number;
  readonly coldProcessHitMs: number;
  readonly skippedMedianMs: number;
  readonly sandboxRunMedianMs: number;
  readonly pipFromWheelMs: number;
  readonly pipUnpackedMs: number;
}

const PROJECT: Record<string, string> = {
  'pyproject.toml':
    '[build-system]\nrequires = ["setuptools>=61", "wheel"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "benchlib"\nversion = "1.0"\ndependencies = ["shout>=0.1"]\n',
  'benchlib/__init__.py': 'from shout import shout\n',
  'tests/test_bench.py': 'import importlib.metadata\n\nfrom benchlib import shout\n\n\ndef test_it():\n    assert shout("a") == "HELLO A"\n    assert importlib.metadata.version("benchlib") == "1.0"\n',
};
const NOTHING: Record<string, string> = { 'calc.py': 'X = 1\n', 'test_calc.py': 'def test_x():\n    assert True\n' };



async function prepareOnce(ready: ReadySandbox, settings: EnvironmentSettings, files: Record<string, string>): Promise<{ ms: number; cached: boolean; status: string }> {
  const ws = await writeWorkspace(Object.entries(files).map(([path, text]) => ({ path, content: Buffer.from(text) })));
  try {
    const { ms, value } = await timed(() => prepareEnvironment({ root: ws.root, files: ws.files, config: ValidationConfigSchema.parse({}) }, { sandbox: ready, settings }));
    await value.dispose();
    return { ms, cached: value.cached, status: value.stage.status };
  } finally {
    await ws.dispose();
  }
}

export async function benchEnvironment(options: { rounds?: number; log?: (line: string) => void } = {}): Promise<EnvironmentBenchFigures> {
  const rounds = options.rounds ?? 15;
  const log = options.log ?? ((line: string) => console.log(line));
  const line = (label: string, ms: number, base?: number): void => log(row(label, ms, base));

  const ready = await getSandbox('bwrap');
  const wheels = await buildWheels([
    { name: 'greet', version: '1.2.0', files: { 'greet/__init__.py': 'def hello(name):\n    return f"hello {name}"\n' } },
    { name: 'shout', version: '0.1.0', files: { 'shout/__init__.py': 'from greet import hello\n\n\ndef shout(name):\n    return hello(name).upper()\n' }, dependencies: ['greet>=1'] },
  ]);
  const index = await servePackageIndex([...wheels, ...(await debianWheels(['setuptools', 'wheel']))]);
  const scratch = await mkdtemp(join(tmpdir(), 'code4py-bench-env-'));
  const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: index.url, CODE4PY_ENV_CACHE_DIR: join(scratch, 'cache') });
  try {
    log(`code4py bench:environment — ${cpus().length} cores, Node ${process.version}, sandbox ${ready.sandbox.backend}, Python ${ready.python.version}, ${rounds} rounds, medians\n`);

    log('1. Cache miss: the environment (2 wheels) and the project (editable, setuptools from the index) built');
    const miss = await prepareOnce(ready, settings, PROJECT);
    const missIndexRequests = index.requests.length;
    if (miss.status !== 'passed' || miss.cached) throw new Error(`the first preparation should build and pass (it was ${miss.status}, cached ${miss.cached})`);
    line('miss: environment stage', miss.ms);
    log(`  index requests: ${missIndexRequests}\n`);

    log('2. Cache hit: the same project in a new work folder, beside the stage with nothing to install and one sandbox run');
    const empty = await mkdtemp(join(scratch, 'empty-'));
    const hits: number[] = [];
    const skipped: number[] = [];
    const sandboxRuns: number[] = [];
    for (let i = 0; i < rounds; i++) {
      const hit = await prepareOnce(ready, settings, PROJECT);
      if (!hit.cached) throw new Error('a later preparation of the same project should come from the cache');
      hits.push(hit.ms);
      skipped.push((await prepareOnce(ready, settings, NOTHING)).ms);
      sandboxRuns.push((await timed(() => ready.sandbox.run({ command: ['python', '-c', 'pass'], workDir: empty }))).ms);
    }
    const hitIndexRequests = index.requests.length - missIndexRequests;
    const sandboxRun = median(sandboxRuns);
    line('nothing to install (skipped)', median(skipped), sandboxRun);
    line('hit: environment stage', median(hits), sandboxRun);
    line('one sandbox run (python -c pass), for scale', sandboxRun);
    // A new process (the CLI's case) reads what the interpreter is from the cache folder: no sandbox run either.
    const fresh = await getSandbox('bwrap', ready.sandbox.python, { searchPath: `${process.env.PATH ?? ''}:/usr/bin` });
    const coldHit = await prepareOnce(fresh, settings, PROJECT);
    line('hit in a fresh process (interpreter facts from the cache folder)', coldHit.ms, sandboxRun);
    log(`  index requests during ${rounds} hits: ${hitIndexRequests}`);
    const verdict = median(hits) <= 200 && hitIndexRequests === 0 ? 'PASS' : 'FAIL';
    log(`  target: a hit costs ≤ 200 ms and makes no index request — ${verdict}\n`);

    log("3. Starting pip in the sandbox: from Debian's wheel against unpacked and compiled (each install run starts pip several times)");
    const wheel = await findPipWheel();
    const unpacked = wheel ? await unpackedPip(settings.cacheDir, wheel, ready.sandbox.python) : null;
    const fromWheel: number[] = [];
    const fromFolder: number[] = [];
    const pipRounds = Math.max(3, Math.ceil(rounds / 3));
    if (wheel && unpacked) {
      for (let i = 0; i < pipRounds; i++) {
        fromWheel.push((await timed(() => ready.sandbox.run({ command: ['python', `${wheel}/pip`, '--version'], workDir: empty }))).ms);
        fromFolder.push((await timed(() => ready.sandbox.run({ command: ['python', '/code4py/pip/pip', '--version'], workDir: empty, mounts: [{ host: unpacked, sandbox: '/code4py/pip', writable: false }] }))).ms);
      }
      line(`pip --version from the wheel (${pipRounds} rounds)`, median(fromWheel));
      line('pip --version unpacked', median(fromFolder), median(fromWheel));
    }
    return {
      missMs: miss.ms,
      missIndexRequests,
      hitMedianMs: median(hits),
      hitIndexRequests,
      coldProcessHitMs: coldHit.ms,
      skippedMedianMs: median(skipped),
      sandboxRunMedianMs: sandboxRun,
      pipFromWheelMs: median(fromWheel),
      pipUnpackedMs: median(fromFolder),
    };
  } finally {
    await index.close();
    await rm(scratch, { recursive: true, force: true });
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const figures = await benchEnvironment({ rounds: Number(process.env.BENCH_ROUNDS ?? 15) });
  process.exitCode = figures.hitMedianMs <= 200 && figures.hitIndexRequests === 0 ? 0 : 1;
}
