import { readFileSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult, Sandbox } from '../../sandbox/types.js';
import { packageRoot } from '../python-scripts.js';
import { SYSTEM_RUNTIME, type TestRuntime } from '../runtime.js';
import { readOutput } from '../stages/tests.js';
import type { MutationPlan } from './plan.js';
import { readRecords, type MutationRecords } from './records.js';

/** Seconds beyond the budget the sandbox run is given: starting Python, making the mutants, stopping the last. */
const GRACE_SECONDS = 15;
/** The seed of the sample taken when the budget is short: fixed, so the same change is sampled the same way. */
export const DEFAULT_SEED = 13;
const OUTPUT_LIMIT = 64 * 1024 * 1024;

export interface MutantRunOptions {
  /** The Python and environment the tests ran under; the mutants run under the same. */
  readonly runtime?: TestRuntime;
  readonly budgetSeconds: number;
  readonly seed?: number;
  /** Mutants run at once (default: the cores this process may use). */
  readonly workers?: number;
  readonly signal?: AbortSignal;
  /** `list` makes the mutants and runs nothing. */
  readonly mode?: 'run' | 'list';
  /** Only these mutant ids (as numbered when made); for the benchmark's one-mutant-per-run loop. */
  readonly only?: readonly number[];
  /** Run the tests unmutated first (default true): they must pass, and their time sets the timeouts. */
  readonly baseline?: boolean;
}

export interface MutantRun {
  readonly records: MutationRecords;
  /** Why the run did not finish on its own terms, or null. */
  readonly failure: string | null;
  readonly aborted: boolean;
  readonly sandbox: Pick<RunResult, 'exitCode' | 'signal' | 'timedOut' | 'outOfMemory' | 'durationMs'>;
}

let script: string | undefined;

/** python/mutate.py, handed to the sandbox as `python -c TEXT` like the other helpers. */
export function mutateScript(): string {
  script ??= readFileSync(join(packageRoot(), 'python', 'mutate.py'), 'utf8');
  return script;
}

/**
 * Makes and runs the plan's mutants in ONE sandbox run (python/mutate.py: a fork server that serves each
 * mutant to its own child through an import hook). The plan goes in through a read-only folder, the
 * results come out through a writable one that is not the work folder, as for the tests stage.
 */
export async function runMutants(sandbox: Sandbox, workDir: string, plan: MutationPlan, options: MutantRunOptions): Promise<MutantRun> {
  const folder = await mkdtemp(join(tmpdir(), 'code4py-mutation-'));
  const input = join(folder, 'plan');
  const output = join(folder, 'out');
  const runtime = options.runtime ?? SYSTEM_RUNTIME;
  try {
    await mkdir(input);
    await mkdir(output);
    const settings = {
      mode: options.mode ?? 'run',
      budgetSeconds: options.budgetSeconds,
      seed: options.seed ?? DEFAULT_SEED,
      workers: options.workers ?? availableParallelism(),
      baseline: options.baseline ?? true,
      ...(options.only ? { only: options.only } : {}),
    };
    await writeFile(join(input, 'plan.json'), JSON.stringify({ ...plan, ...settings }));
    const seconds = options.budgetSeconds + GRACE_SECONDS;
    const result = await sandbox.run({
      command: [runtime.python, '-I', '-B', '-c', mutateScript(), '/mutation/plan.json', '/mutation-out'],
      workDir,
      mounts: [...runtime.mounts, { host: input, sandbox: '/mutation', writable: false }, { host: output, sandbox: '/mutation-out', writable: true }],
      env: { ...(runtime.pluginAutoload ? {} : { PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' }), PYTHONHASHSEED: '0', COLUMNS: '120', ...runtime.env },
      limits: { wallTimeMs: seconds * 1000, cpuSeconds: seconds },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    const records = readRecords((await readOutput(join(output, 'mutants.jsonl'), OUTPUT_LIMIT)) ?? '');
    return {
      records,
      failure: failureOf(result, records, seconds),
      aborted: result.aborted,
      sandbox: { exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, outOfMemory: result.outOfMemory, durationMs: result.durationMs },
    };
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
}

function failureOf(result: RunResult, records: MutationRecords, seconds: number): string | null {
  if (result.aborted) return 'the mutation run was cancelled';
  if (result.timedOut) return `the mutation run was killed after ${seconds} s`;
  if (result.outOfMemory) return 'the mutation run ran out of memory';
  if (result.exitCode !== 0 || records.done === null) {
    const said = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    return `the mutation run ${how}${said ? `: ${said}` : ''}`;
  }
  return null;
}
