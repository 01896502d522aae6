import { describe, expect, it } from 'vitest';
import { changeFigures, checkRunTitle, countFindings } from '../../src/render/figures.js';
import { changeScopedReport, failingReport, passingReport, reportWithFindings } from '../fixtures/reports.js';

describe('the check run title', () => {
  it('states the figures: tests, coverage and findings by stage and severity', () => {
    const report = { ...reportWithFindings(2), coverage: { percent: 100, files: [] } };
    expect(checkRunTitle({ ...report, tests: { ...report.tests, passed: 5 } })).toBe('5 tests passed · coverage 100% · 2 lint warnings');
  });

  it('names failures, errors and a time-out, and errors before warnings', () => {
    expect(checkRunTitle(failingReport())).toBe('3 tests passed, 1 failed · coverage 87.5% · 1 security error, 1 lint warning');
    const report = passingReport({ passed: false, tests: { ...passingReport().tests, passed: 1, failed: 0, errors: 2, timedOut: true } });
    expect(checkRunTitle(report)).toBe('1 test passed, 2 errors, timed out · coverage 87.5%');
  });

  it('leaves out what was not measured and what there is none of', () => {
    expect(checkRunTitle(passingReport({ coverage: { percent: null, files: [] } }))).toBe('4 tests passed');
  });

  it('counts only the findings a change introduced, and shows patch coverage, when the report has a base', () => {
    expect(checkRunTitle(changeScopedReport())).toBe('4 tests passed · patch coverage 92% · 1 lint warning');
  });
});

describe('the change-scoped figures', () => {
  it('says in one line each what the change did, as a maintainer reads it', () => {
    expect(changeFigures(changeScopedReport())).toEqual([
      '4 of 5 new or changed tests fail on the base branch and pass with this change',
      'patch coverage 92% (23 of 25 changed lines)',
      'mutation score 92% (23 of 25 mutants killed)',
      'regressed: tests/test_calc.py::test_add, tests/test_calc.py::test_sub',
    ]);
  });

  it('agrees its verbs with the number of tests that show the change', () => {
    const one = changeScopedReport({ evidence: [{ test: 'tests/test_new.py::test_a', base: 'failed', head: 'passed' }] });
    expect(changeFigures(one)[0]).toBe('1 of 1 new or changed test fails on the base branch and passes with this change');
    const none = changeScopedReport({ evidence: [{ test: 'tests/test_new.py::test_a', base: 'passed', head: 'passed' }] });
    expect(changeFigures(none)[0]).toBe('0 of 1 new or changed test fail on the base branch and pass with this change');
  });

  it('counts only the tests that ran with the change, and names the ones skipped apart', () => {
    const evidence = [
      { test: 'tests/test_new.py::test_a[native]', base: 'error', head: 'passed' },
      { test: 'tests/test_new.py::test_a[speedups]', base: 'skipped', head: 'skipped' },
      { test: 'tests/test_new.py::test_b[native]', base: 'error', head: 'passed' },
      { test: 'tests/test_new.py::test_b[speedups]', base: 'skipped', head: 'skipped' },
    ] as const;
    expect(changeFigures(changeScopedReport({ evidence: [...evidence] }))[0]).toBe('2 of 2 new or changed tests fail on the base branch and pass with this change (2 more skipped)');
    expect(changeFigures(changeScopedReport({ evidence: [evidence[1]] }))[0]).toBe('the new or changed test was skipped with this change');
  });

  it('has no lines for a report without a base', () => {
    expect(changeFigures(failingReport())).toEqual([]);
  });

  it('says when no changed line is executable, no mutant ran, or only a sample did, and cuts long test lists', () => {
    const ids = Array.from({ length: 7 }, (_, i) => `t::test_${i}`);
    const report = changeScopedReport({
      evidence: [],
      coverage: { percent: 90, files: [], changedLines: { covered: 0, total: 0, percent: null } },
      mutation: { score: null, killed: 0, survived: 0, timedOut: 0, notCovered: 3, sampled: 0, total: 3, mutants: [] },
    });
    const tests = { ...report.tests, regressed: [], newFailing: ids, stillFailing: ['t::old'], fixed: ['t::fixed'] };
    expect(changeFigures({ ...report, tests })).toEqual([
      'patch coverage: no executable line changed',
      'mutation: no mutant ran',
      'new tests failing: t::test_0, t::test_1, t::test_2, t::test_3, t::test_4 and 2 more',
      'still failing (as on the base branch): t::old',
      'fixed: t::fixed',
    ]);
    const sampled = changeScopedReport({ mutation: { score: 50, killed: 1, survived: 1, timedOut: 0, notCovered: 0, sampled: 2, total: 40, mutants: [] } });
    expect(changeFigures(sampled)).toContain('mutation score 50% (1 of 2 mutants killed, a sample of 2 of 40)');
  });
});

describe('counting findings', () => {
  it('counts pre-existing findings apart when the report has a base, and every finding without one', () => {
    expect(countFindings(changeScopedReport())).toEqual({ counted: [{ stage: 'lint', severity: 'warning', count: 1 }], preExisting: 2 });
    const { base: _, ...withoutBase } = changeScopedReport();
    expect(countFindings(withoutBase).counted).toEqual([{ stage: 'lint', severity: 'warning', count: 2 }, { stage: 'lint', severity: 'info', count: 1 }]);
  });
});
