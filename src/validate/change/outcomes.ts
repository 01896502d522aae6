import type { Evidence, TestCase } from '../report.js';
import type { Definitions } from '../stages/syntax.js';
import { changedLinesOf, type ChangeSet } from './change-set.js';

export type Outcome = TestCase['outcome'];


const failing = (outcome: Outcome | undefined): boolean => outcome === 'failed' || outcome === 'error';

/**
 * The tests the change adds or modifies: every test of a test file it adds, and in a test file it
 * modifies, the tests that are new or whose own definition (decorators included) it changed.
 */
export function changedTests(head: readonly TestCase[], base: ReadonlyMap<string, Outcome>, change: ChangeSet, defs: Definitions): string[] {
  const ids: string[] = [];
  for (const test of head) {
    const path = fileOf(test.id);
    const lines = changedLinesOf(change, path);
    if (lines === null) continue;
    if (lines === 'all' || !base.has(test.id)) {
      ids.push(test.id);
      continue;
    }
    const name = qualifiedName(test.id);
    const def = defs.get(path)?.find((d) => d.name === name);
    if (def && [...lines].some((line) => line >= def.line && line <= def.end)) ids.push(test.id);
  }
  return ids;
}

export interface OutcomeComparison {
  /** Passed (or were skipped) at the base, fail with the change. */
  readonly regressed: string[];
  /** Tests the change adds or modifies, or that did not exist at the base, that fail. */
  readonly newFailing: string[];
  /** Failed at the base and still fail. */
  readonly stillFailing: string[];
  /** Failed at the base and pass with the change. */
  readonly fixed: string[];
  /** Passed at the base and are gone: their file was deleted, or the test removed or renamed. */
  readonly removed: string[];
}

/**
 * Every test's outcome at the base and with the change. A test file that cannot even be collected with
 * the change shows as one failing entry named by the file: when that file's tests passed at the base, that
 * entry is a regression.
 */
export function compareOutcomes(base: ReadonlyMap<string, Outcome>, head: readonly TestCase[], changed: ReadonlySet<string>): OutcomeComparison {
  const result: OutcomeComparison = { regressed: [], newFailing: [], stillFailing: [], fixed: [], removed: [] };
  const headIds = new Set(head.map((t) => t.id));
  const passedAtBaseByFile = new Map<string, number>();
  for (const [id, outcome] of base) {
    if (outcome === 'passed') passedAtBaseByFile.set(fileOf(id), (passedAtBaseByFile.get(fileOf(id)) ?? 0) + 1);
  }
  for (const test of head) {
    const before = base.get(test.id);
    if (!failing(test.outcome)) {
      if (failing(before) && test.outcome === 'passed') result.fixed.push(test.id);
      continue;
    }
    if (changed.has(test.id)) result.newFailing.push(test.id);
    else if (failing(before)) result.stillFailing.push(test.id);
    else if (before !== undefined) result.regressed.push(test.id);
    else if (!test.id.includes('::') && (passedAtBaseByFile.get(test.id) ?? 0) > 0) result.regressed.push(test.id);
    else result.newFailing.push(test.id);
  }
  for (const [id, outcome] of base) {
    if (outcome === 'passed' && !headIds.has(id) && !headIds.has(fileOf(id))) result.removed.push(id);
  }
  return result;
}

/**
 * Fail-before / pass-after: each test the change adds or modifies, at the base (run there with the
 * change's version of the test files) and with the change. A test missing at the base run is one that
 * could not even be collected there (e.g. it imports what the change adds).
 */
export function evidenceOf(changed: readonly string[], atBase: readonly TestCase[], head: readonly TestCase[]): Evidence[] {
  const baseById = new Map(atBase.map((t) => [t.id, t.outcome]));
  const headById = new Map(head.map((t) => [t.id, t.outcome]));
  return changed.map((test) => ({
    test,
    base: baseById.get(test) ?? (failing(baseById.get(fileOf(test))) ? 'error' : 'missing'),
    head: headById.get(test) ?? 'missing',
  }));
}

/** `tests/test_x.py::TestA::test_b[1]` → `tests/test_x.py`. */
export function fileOf(id: string): string {
  return id.split('::')[0] ?? id;
}

/** `tests/test_x.py::TestA::test_b[1]` → `TestA.test_b`. */
function qualifiedName(id: string): string {
  return id.split('::').slice(1).join('.').replace(/\[.*$/, '');
}
