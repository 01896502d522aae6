import { mkdir, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunResult, Sandbox } from '../../sandbox/types.js';
import { pythonScript } from '../python-scripts.js';
import { SYSTEM_RUNTIME, type TestRuntime } from '../runtime.js';
import { readOutput } from '../stages/output.js';
import type { MutationPlan } from './plan.js';
import { readRecords, type MutationRecords } from './records.js';

/** Seconds beyond the budget the sandbox run is given: starting Python, making the mutants, stopping the last. */
const GRACE_SECONDS = 15;
/** The seed of the sample taken when the budget is short: fixed, so the same change is sampled the same way. */
const DEFAULT_SEED = 13;
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

/**
 * Makes and runs the plan's mutants in ONE sandbox run (python/mutate.py: a fork server that serves each
 * mutant to its own child through an import hook). The plan goes in through a read-only folder, the
 * results come out through a writable one that is not the work folder, as for the tests stage.
 */
export async function runMutants(sandbox: Sandbox, workDir: string, plan: MutationPlan, options: MutantRunOptions): Promise<MutantRun> {
  const started = await startMutants(sandbox, workDir, { runtime: options.runtime, waitSeconds: 0, ...(options.signal ? { signal: options.signal } : {}) }, { plan, options });
  return started.submit(plan, options);
}

/** A mutation run started before its plan is known; `submit` hands it the plan, `cancel` ends it unused. */
export interface StartedMutants {
  submit(plan: MutationPlan, options: MutantRunOptions): Promise<MutantRun>;
  cancel(): Promise<void>;
}

/**
 * Starts the mutation run's sandbox before the plan exists — while the tests that give the plan still
 * run — so that Python's start, pytest's import and the fork server's warm-up overlap them. The run waits
 * (at most `waitSeconds`) for the plan file, which `submit` writes whole (a rename), or for `cancel`.
 */
export async function startMutants(
  sandbox: Sandbox,
  workDir: string,
  start: { readonly runtime?: TestRuntime | undefined; readonly waitSeconds: number; readonly signal?: AbortSignal; readonly budgetSeconds?: number },
  known?: { plan: MutationPlan; options: MutantRunOptions },
): Promise<StartedMutants> {
  const folder = await mkdtemp(join(tmpdir(), 'code4py-mutation-'));
  const input = join(folder, 'plan');
  const output = join(folder, 'out');
  const runtime = start.runtime ?? SYSTEM_RUNTIME;
  const write = async (plan: MutationPlan, options: MutantRunOptions): Promise<void> => {
    const settings = {
      mode: options.mode ?? 'run',
      budgetSeconds: options.budgetSeconds,
      seed: options.seed ?? DEFAULT_SEED,
      workers: options.workers ?? availableParallelism(),
      baseline: options.baseline ?? true,
      ...(options.only ? { only: options.only } : {}),
    };
    await writeFile(join(input, 'plan.json.tmp'), JSON.stringify({ ...plan, ...settings }));
    await rename(join(input, 'plan.json.tmp'), join(input, 'plan.json'));
  };
  try {
    await mkdir(input);
    await mkdir(output);
    if (known) await write(known.plan, known.options);
  } catch (error) {
    await rm(folder, { recursive: true, force: true });
    throw error;
  }
  // Ends the run when it cannot be told to by its files (the plan or the cancel could not be written).
  const stop = new AbortController();
  const budget = known?.options.budgetSeconds ?? start.budgetSeconds ?? 30;
  const seconds = start.waitSeconds + budget + GRACE_SECONDS;
  const running = sandbox.run({
    command: [runtime.python, '-I', '-B', '-c', pythonScript('mutate'), '/mutation/plan.json', '/mutation-out'],
    workDir,
    mounts: [...runtime.mounts, { host: input, sandbox: '/mutation', writable: false }, { host: output, sandbox: '/mutation-out', writable: true }],
    env: { ...(runtime.pluginAutoload ? {} : { PYTEST_DISABLE_PLUGIN_AUTOLOAD: '1' }), PYTHONHASHSEED: '0', COLUMNS: '120', ...runtime.env },
    limits: { wallTimeMs: seconds * 1000, cpuSeconds: seconds },
    signal: start.signal ? AbortSignal.any([start.signal, stop.signal]) : stop.signal,
  });
  // Settled here so that a run nobody awaits (cancelled) never counts as unhandled.
  const finished = running.then(
    (result) => ({ result }),
    (error: unknown) => ({ error }),
  );
  let ended = false;
  const end = async (): Promise<void> => {
    if (ended) return;
    ended = true;
    await rm(folder, { recursive: true, force: true });
  };
  return {
    async submit(plan, options) {
      try {
        if (!known) {
          await write(plan, options).catch(async (error: unknown) => {
            stop.abort();
            await finished;
            throw error;
          });
        }
        const outcome = await finished;
        if ('error' in outcome) throw outcome.error;
        const { result } = outcome;
        const records = readRecords((await readOutput(join(output, 'mutants.jsonl'), OUTPUT_LIMIT)) ?? '');
        return {
          records,
          failure: failureOf(result, records, `its limit of ${seconds} s (a budget of ${budget} s${start.waitSeconds > 0 ? `, ${start.waitSeconds} s to wait for its plan` : ''}, ${GRACE_SECONDS} s of grace)`),
          aborted: result.aborted,
          sandbox: { exitCode: result.exitCode, signal: result.signal, timedOut: result.timedOut, outOfMemory: result.outOfMemory, durationMs: result.durationMs },
        };
      } finally {
        await end();
      }
    },
    async cancel() {
      if (ended) return;
      await writeFile(join(input, 'cancel'), '').catch(() => stop.abort());
      await finished;
      await end();
    },
  };
}

function failureOf(result: RunResult, records: MutationRecords, limit: string): string | null {
  if (result.aborted) return 'the mutation run was cancelled';
  if (result.timedOut) return `the mutation run was killed at ${limit}`;
  if (result.outOfMemory) return 'the mutation run ran out of memory';
  if (result.exitCode !== 0 || records.done === null) {
    const said = result.stderr.trim().split('\n').slice(-3).join(' ').slice(0, 500);
    const how = result.exitCode === null ? `was killed by ${result.signal}` : `exited with status ${result.exitCode}`;
    return `the mutation run ${how}${said ? `: ${said}` : ''}`;
  }
  return null;
}
