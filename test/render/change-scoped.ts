import type { Report } from '../../src/validate/report.js';
import { finding, passingReport } from '../fixtures/reports.js';

export const BASE_SHA = 'b0'.repeat(20);

/**
 * A change-scoped report (validated with `--base`): one lint warning the change introduced and two
 * findings that were there at the base; four of five new tests fail on the base and pass with the
 * change; 23 of 25 changed lines covered; 23 of 25 mutants killed; two tests regressed.
 */
export function changeScopedReport(overrides: Partial<Report> = {}): Report {
  const report = passingReport();
  return {
    ...report,
    passed: false,
    base: BASE_SHA,
    stages: report.stages.map((s) =>
      s.name === 'lint'
        ? { ...s, status: 'warning', summary: '3 findings', findings: [finding({ introduced: true }), finding({ line: 9, rule: 'F401', message: '`os` imported but unused', introduced: false }), finding({ line: 12, severity: 'info', rule: 'not-checked', message: 'old note', introduced: false })] }
        : s,
    ),
    tests: { ...report.tests, regressed: ['tests/test_calc.py::test_add', 'tests/test_calc.py::test_sub'], newFailing: [], stillFailing: [], fixed: [] },
    coverage: { ...report.coverage, changedLines: { covered: 23, total: 25, percent: 92 } },
    evidence: [
      ...['a', 'b', 'c', 'd'].map((name) => ({ test: `tests/test_new.py::test_${name}`, base: 'failed' as const, head: 'passed' as const })),
      { test: 'tests/test_new.py::test_e', base: 'passed', head: 'passed' },
    ],
    mutation: { score: 92, killed: 22, survived: 2, timedOut: 1, notCovered: 0, sampled: 0, total: 25, mutants: [] },
    ...overrides,
  };
}
