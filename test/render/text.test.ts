import { describe, expect, it } from 'vitest';
import { renderText } from '../../src/render/text.js';
import type { Finding, Report } from '../../src/validate/report.js';
import { changeScopedReport, failingReport, finding, passingReport, stageResult, testCase } from '../fixtures/reports.js';

function reportWith(findings: Finding[]): Report {
  const report = passingReport();
  return { ...report, stages: report.stages.map((s) => (s.name === 'lint' ? { ...s, findings } : s)) };
}

const findingLines = (text: string): string[] => text.split('\n').filter((line) => line.includes(' E501 '));

describe('renderText', () => {
  it('prints stages, findings worst first, failed tests with their traceback, then the verdict', () => {
    expect(renderText(failingReport())).toBe(
      [
        '✔ syntax        passed   4 files parse',
        '⚠ lint          warning  1 finding',
        '✖ security      failed   1 finding at or above medium',
        '✔ dependencies  passed   standard library only',
        '✖ tests         failed   3 passed, 1 failed',
        '✔ coverage      passed   87.5% of statements (minimum 80%)',
        '',
        'src/run.py:7:5: error S602 subprocess call with shell=True identified, security issue',
        'src/calc.py:3:89: warning E501 Line too long (97 > 88)',
        '',
        '✖ tests/test_calc.py::test_div failed: ZeroDivisionError: division by zero',
        '        def test_div():',
        '    >       assert div(1, 0) == 0',
        '    E       ZeroDivisionError: division by zero',
        '',
        '    src/calc.py:12: ZeroDivisionError',
        '',
        'FAILED: 3 passed, 1 failed in 3.4 s',
        '',
      ].join('\n'),
    );
  });

  it('judged as a change, prints its figures, lists only the findings it introduced and names a test that failed at the base too without its traceback', () => {
    const base = changeScopedReport();
    const report: Report = {
      ...base,
      tests: {
        ...base.tests,
        failed: 1,
        stillFailing: ['tests/test_old.py::test_broken'],
        cases: [...base.tests.cases, testCase('tests/test_old.py::test_broken', { outcome: 'failed', message: 'AssertionError: broken since long ago' })],
      },
    };
    const text = renderText(report);
    const figures = text.slice(text.indexOf('judged as a change'), text.indexOf('\n\n', text.indexOf('judged as a change')));
    expect(figures.split('\n')).toEqual([
      `judged as a change on top of ${base.base!.slice(0, 12)}:`,
      '  4 of 5 new or changed tests fail on the base branch and pass with this change',
      '  patch coverage 92% (23 of 25 changed lines)',
      '  mutation score 92% (23 of 25 mutants killed)',
      '  regressed: tests/test_calc.py::test_add, tests/test_calc.py::test_sub',
      '  still failing (as on the base branch): tests/test_old.py::test_broken',
      '  2 findings were there at the base already: not counted, not listed (--json has them)',
    ]);
    // The introduced warning is listed; the two pre-existing findings are not.
    expect(text).toContain('src/calc.py:3: warning E501 Line too long (97 > 88)');
    expect(text).not.toContain('F401');
    expect(text).not.toContain('old note');
    expect(text).not.toContain('broken since long ago');
  });

  it('lists every finding of a whole-folder validation, as there is no base to tell them from', () => {
    const { base: _base, ...report } = changeScopedReport();
    const text = renderText(report);
    expect(text).not.toContain('judged as a change');
    expect(text).toContain('F401');
  });

  it('ends a passing run with PASSED, the counts and the duration', () => {
    const report = passingReport({ tests: { ...passingReport().tests, skipped: 2 }, durationMs: 61_500 });
    expect(renderText(report).endsWith('\nPASSED: 4 passed, 0 failed, 2 skipped in 1 min 2 s\n')).toBe(true);
  });

  describe('finding lines', () => {
    it('read path:line:col:, path:line: or path: as the finding’s place is known', () => {
      const text = renderText(
        reportWith([finding({ line: 3, column: 7 }), finding({ line: 4 }), finding({ line: 0, column: 2, path: 'setup.py' })]),
      );
      expect(findingLines(text)).toEqual([
        'setup.py: warning E501 Line too long (97 > 88)',
        'src/calc.py:3:7: warning E501 Line too long (97 > 88)',
        'src/calc.py:4: warning E501 Line too long (97 > 88)',
      ]);
    });

    it('stay on one line and carry no terminal escapes from the report', () => {
      const text = renderText(reportWith([finding({ message: 'first\nsecond \x1b[2J\x1b]0;title\x07' })]));
      expect(findingLines(text)).toEqual(['src/calc.py:3: warning E501 first second \\x1b]0;title\\x07']);
    });
  });

  describe('failed tests', () => {
    it('show the last 20 lines of a long traceback', () => {
      const report = failingReport();
      report.tests.cases[3]!.details = Array.from({ length: 30 }, (_, i) => `frame ${i + 1}`).join('\n');
      const lines = renderText(report).split('\n');
      const start = lines.indexOf('    … 10 more lines above');
      expect(lines.slice(start + 1, start + 21)).toEqual(Array.from({ length: 20 }, (_, i) => `    frame ${i + 11}`));
    });

    it('show the rest of a multi-line message when there is no traceback', () => {
      const report = passingReport({ passed: false });
      report.tests.cases = [testCase('tests/test_a.py::test_b', { outcome: 'error', message: 'fixture missing\nno fixture "db"' })];
      expect(renderText(report)).toContain('\n✖ tests/test_a.py::test_b error: fixture missing\n    no fixture "db"\n');
    });
  });

  it('prints a finding about the whole folder without a place', () => {
    const report = passingReport({ passed: false });
    report.stages[4] = stageResult('tests', {
      status: 'failed', findings: [finding({ path: '.', line: 0, rule: 'no-tests', severity: 'error', message: 'no tests were found' })],
    });
    expect(renderText(report)).toContain('\n\nerror no-tests no tests were found\n\n');
  });

  describe('colour', () => {
    it('is off unless asked for', () => {
      expect(renderText(failingReport())).not.toContain('\x1b');
    });

    it('marks statuses, severities and the verdict when asked for', () => {
      const text = renderText(failingReport(), { color: true });
      expect(text).toContain('\x1b[32m✔\x1b[0m syntax        \x1b[32mpassed \x1b[0m  4 files parse');
      expect(text).toContain('src/run.py:7:5: \x1b[31merror\x1b[0m S602');
      expect(text).toContain('\x1b[1m\x1b[31mFAILED\x1b[0m\x1b[0m: 3 passed, 1 failed in 3.4 s');
    });
  });
});
