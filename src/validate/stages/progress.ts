import type { TestCase } from '../report.js';

/** What python/validate.py's progress file says: the tests that finished, and the one still running. */
export interface Progress {
  readonly finished: readonly TestCase[];
  /** The last test that started and did not finish: the one a killed run was running. */
  readonly running: string | null;
}

const OUTCOMES = new Set(['passed', 'failed', 'error', 'skipped']);

/**
 * Reads the progress file (`start\tID` and `done\tID\tOUTCOME\tSECONDS` lines, written as the tests run).
 * It is what remains when pytest is killed before it writes its JUnit report; lines that do not read as
 * either are ignored (the file is written by the process under test).
 */
export function readProgress(text: string | null): Progress {
  const finished = new Map<string, TestCase>();
  let running: string | null = null;
  for (const line of (text ?? '').split('\n')) {
    const [kind, id, outcome, seconds] = line.split('\t');
    if (!id) continue;
    if (kind === 'start') running = id;
    else if (kind === 'done' && outcome && OUTCOMES.has(outcome)) {
      const durationMs = Math.max(0, Number(seconds) * 1000) || 0;
      finished.set(id, { id, outcome: outcome as TestCase['outcome'], durationMs, path: id.split('::')[0] ?? id });
      if (running === id) running = null;
    }
  }
  return { finished: [...finished.values()], running };
}
