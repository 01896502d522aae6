import { z } from 'zod';
import { parseJsonOrNull } from '../../json.js';
import type { TestCase } from '../report.js';
import { isPythonFile, isTestFile, type SourceFile } from '../source.js';
import { testFileRule } from '../test-files.js';

/**
 * What python/mutate.py is asked to do: which lines of which files to mutate, and which tests ran each
 * line. Tests are numbered (`tests[i]` is a pytest node id, `durations[i]` its time in seconds) so that a
 * file's line map stays small.
 */
export interface MutationPlan {
  readonly files: readonly PlannedFile[];
  readonly tests: readonly string[];
  readonly durations: readonly number[];
}

export interface PlannedFile {
  readonly path: string;
  /** The lines to mutate; null for every line of the file. */
  readonly lines: readonly number[] | null;
  /** Line (as a string, as in JSON) → the tests that ran it. Lines no test ran are absent. */
  readonly tests: Readonly<Record<string, readonly number[]>>;
}

/** coverage.py's JSON report, as much of it as the plan reads: per file, the contexts that ran each line. */
const CoverageContextsSchema = z.object({
  meta: z.object({ show_contexts: z.boolean().optional() }).optional(),
  files: z.record(z.string(), z.object({ contexts: z.record(z.string(), z.array(z.string())).optional() })),
});

export type PlanResult = { readonly ok: true; readonly plan: MutationPlan } | { readonly ok: false; readonly reason: string };

export interface PlanInput {
  /** coverage.py's JSON report from a test run with per-test contexts (`runTests(…, { contexts: true })`). */
  readonly coverageJson: string | null;
  /** The test run's cases: tests that failed, errored or were skipped are not used (a failing one would "kill" every mutant). */
  readonly cases: readonly TestCase[];
  readonly files: readonly SourceFile[];
  /** The lines the change adds or modifies, per file; absent or null to mutate every line (no base). */
  readonly changedLines?: ReadonlyMap<string, ReadonlySet<number>> | null;
}

/**
 * Plans the mutation run: the non-test Python files (those the change touches, with its lines, or all),
 * and for each line the passing tests that ran it. A line that ran only outside any test (at import, such
 * as a module constant or a `def` line's defaults) is given every test that ran any line of its file.
 */
export function planMutations(input: PlanInput): PlanResult {
  if (input.coverageJson === null) return { ok: false, reason: 'the test run wrote no coverage report' };
  const parsed = CoverageContextsSchema.safeParse(parseJsonOrNull(input.coverageJson));
  if (!parsed.success) return { ok: false, reason: 'the coverage report could not be read' };
  if (parsed.data.meta?.show_contexts === false) return { ok: false, reason: 'the test run did not record which test ran each line' };

  const passed = new Map(input.cases.filter((c) => c.outcome === 'passed').map((c) => [c.id, c.durationMs / 1000]));
  const notPassed = new Set(input.cases.filter((c) => c.outcome !== 'passed').map((c) => c.id));
  const slowest = Math.max(0, ...passed.values());
  const tests: string[] = [];
  const durations: number[] = [];
  const numbers = new Map<string, number>();
  const numberOf = (id: string): number | null => {
    if (notPassed.has(id)) return null;
    let n = numbers.get(id);
    if (n === undefined) {
      n = tests.length;
      numbers.set(id, n);
      tests.push(id);
      // A test whose time the run did not report is given the slowest time, so its timeout is not too short.
      durations.push(passed.get(id) ?? slowest);
    }
    return n;
  };

  const files: PlannedFile[] = [];
  const testRule = testFileRule(input.files);
  for (const file of input.files) {
    if (!isPythonFile(file.path) || isTestFile(file.path, testRule) || file.text === null) continue;
    const changed = input.changedLines?.get(file.path);
    if (input.changedLines && (!changed || changed.size === 0)) continue;
    const contexts = parsed.data.files[file.path]?.contexts ?? {};
    files.push({ path: file.path, lines: changed ? [...changed].sort((a, b) => a - b) : null, tests: lineTests(contexts, numberOf) });
  }
  return { ok: true, plan: { files, tests, durations } };
}

function lineTests(contexts: Record<string, string[]>, numberOf: (id: string) => number | null): Record<string, number[]> {
  const byLine: Record<string, number[]> = {};
  const fileTests = new Set<number>();
  const importTime: string[] = [];
  for (const [line, labels] of Object.entries(contexts)) {
    const ran = [...new Set(labels.filter((label) => label !== '').map(numberOf).filter((n): n is number => n !== null))];
    ran.forEach((n) => fileTests.add(n));
    if (ran.length > 0) byLine[line] = ran.sort((a, b) => a - b);
    else if (labels.includes('')) importTime.push(line);
  }
  const all = [...fileTests].sort((a, b) => a - b);
  if (all.length > 0) for (const line of importTime) byLine[line] = all;
  return byLine;
}
