import { describe, expect, it } from 'vitest';
import { planMutations } from '../../../src/validate/mutation/plan.js';
import type { TestCase } from '../../../src/validate/report.js';
import type { SourceFile } from '../../../src/validate/source.js';

const file = (path: string, text: string | null = 'x = 1\n'): SourceFile => ({ path, text, bytes: text?.length ?? 0 });
const passed = (id: string, durationMs = 10): TestCase => ({ id, outcome: 'passed', durationMs });

function coverage(contexts: Record<string, Record<string, string[]>>, showContexts = true): string {
  return JSON.stringify({
    meta: { show_contexts: showContexts },
    files: Object.fromEntries(Object.entries(contexts).map(([path, byLine]) => [path, { executed_lines: [], contexts: byLine }])),
  });
}

describe('the mutation plan', () => {
  it('numbers the tests that ran each line, with their durations in seconds', () => {
    const result = planMutations({
      coverageJson: coverage({ 'calc.py': { '3': ['test_calc.py::test_a', 'test_calc.py::test_b'], '4': ['test_calc.py::test_b'] } }),
      cases: [passed('test_calc.py::test_a', 250), passed('test_calc.py::test_b', 1500)],
      files: [file('calc.py'), file('test_calc.py')],
    });
    expect(result).toEqual({
      ok: true,
      plan: { files: [{ path: 'calc.py', lines: null, tests: { '3': [0, 1], '4': [1] } }], tests: ['test_calc.py::test_a', 'test_calc.py::test_b'], durations: [0.25, 1.5] },
    });
  });

  it('gives lines run only at import every test that ran the file', () => {
    const result = planMutations({
      coverageJson: coverage({ 'calc.py': { '1': [''], '5': ['t.py::a'], '9': ['t.py::b'] }, 'other.py': { '1': [''] } }),
      cases: [passed('t.py::a'), passed('t.py::b')],
      files: [file('calc.py'), file('other.py')],
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.files[0]?.tests['1']).toEqual([0, 1]);
    // No test ran any line of other.py: its import-time lines are not covered.
    expect(result.plan.files[1]).toEqual({ path: 'other.py', lines: null, tests: {} });
  });

  it('leaves out tests that failed, errored or were skipped, and gives a test the run did not time the slowest time', () => {
    const result = planMutations({
      coverageJson: coverage({ 'calc.py': { '2': ['t.py::bad', 't.py::good', 't.py::untimed'] } }),
      cases: [{ id: 't.py::bad', outcome: 'failed', durationMs: 5 }, passed('t.py::good', 2000)],
      files: [file('calc.py')],
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.tests).toEqual(['t.py::good', 't.py::untimed']);
    expect(result.plan.durations).toEqual([2, 2]);
  });

  it('plans only the changed lines of the changed non-test files when given them', () => {
    const result = planMutations({
      coverageJson: coverage({ 'a.py': { '1': ['t.py::x'] }, 'b.py': { '1': ['t.py::x'] } }),
      cases: [passed('t.py::x')],
      files: [file('a.py'), file('b.py'), file('tests/test_a.py'), file('binary.py', null)],
      changedLines: new Map([
        ['a.py', new Set([7, 3])],
        ['tests/test_a.py', new Set([1])],
        ['binary.py', new Set([1])],
      ]),
    });
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.files.map((f) => [f.path, f.lines])).toEqual([['a.py', [3, 7]]]);
  });

  it('says why when the test run left nothing to plan from', () => {
    const args = { cases: [], files: [file('a.py')] };
    expect(planMutations({ ...args, coverageJson: null })).toEqual({ ok: false, reason: 'the test run wrote no coverage report' });
    expect(planMutations({ ...args, coverageJson: '{"files": 3}' })).toEqual({ ok: false, reason: 'the coverage report could not be read' });
    expect(planMutations({ ...args, coverageJson: coverage({}, false) })).toEqual({ ok: false, reason: 'the test run did not record which test ran each line' });
  });
});
