import { describe, expect, it } from 'vitest';
import { batchAnnotations, toAnnotations, type CheckRunAnnotation } from '../../src/render/annotations.js';
import type { Finding, Report } from '../../src/validate/report.js';
import { failingReport, finding, passingReport, reportWithFindings, stageResult, testCase } from '../fixtures/reports.js';

function reportWith(findings: Finding[], stageName: 'lint' | 'security' | 'syntax' = 'lint'): Report {
  const report = passingReport();
  return { ...report, stages: report.stages.map((s) => (s.name === stageName ? { ...s, findings } : s)) };
}

const only = (report: Report): CheckRunAnnotation => {
  const annotations = toAnnotations(report);
  expect(annotations).toHaveLength(1);
  return annotations[0]!;
};

describe('toAnnotations', () => {
  it('annotates the failed test with its traceback, then findings worst first', () => {
    expect(toAnnotations(failingReport())).toEqual([
      {
        path: 'tests/test_calc.py',
        start_line: 9,
        end_line: 9,
        annotation_level: 'failure',
        title: 'test failed',
        message: 'tests/test_calc.py::test_div failed\n\nZeroDivisionError: division by zero',
        raw_details: expect.stringContaining('E       ZeroDivisionError: division by zero'),
      },
      {
        path: 'src/run.py',
        start_line: 7,
        end_line: 7,
        start_column: 5,
        end_column: 5,
        annotation_level: 'failure',
        title: 'security S602',
        message: 'subprocess call with shell=True identified, security issue',
      },
      {
        path: 'src/calc.py',
        start_line: 3,
        end_line: 3,
        start_column: 89,
        end_column: 89,
        annotation_level: 'warning',
        title: 'ruff E501',
        message: 'Line too long (97 > 88)',
      },
    ]);
  });

  it('maps error to failure, warning to warning and info to notice', () => {
    const levels = toAnnotations(
      reportWith([
        finding({ severity: 'info', line: 1 }),
        finding({ severity: 'error', line: 2 }),
        finding({ severity: 'warning', line: 3 }),
      ]),
    ).map((a) => [a.start_line, a.annotation_level]);
    expect(levels).toEqual([[2, 'failure'], [3, 'warning'], [1, 'notice']]);
  });

  it('anchors a finding about a whole file (line 0) at line 1, without columns', () => {
    const annotation = only(reportWith([finding({ line: 0, column: 4 })]));
    expect(annotation).toMatchObject({ start_line: 1, end_line: 1 });
    expect(annotation).not.toHaveProperty('start_column');
  });

  it('drops columns on an annotation spanning several lines', () => {
    const annotation = only(reportWith([finding({ line: 4, endLine: 6, column: 2 })]));
    expect(annotation).toMatchObject({ start_line: 4, end_line: 6 });
    expect(annotation).not.toHaveProperty('start_column');
    expect(annotation).not.toHaveProperty('end_column');
  });

  it('names the stage in the title where no tool name reads better', () => {
    expect(only(reportWith([finding({ rule: 'E999' })], 'syntax')).title).toBe('syntax E999');
  });

  it('leaves findings about the whole folder (path `.` or none) to the summary', () => {
    expect(toAnnotations(reportWith([finding({ path: '' }), finding({ path: '.' })]))).toEqual([]);
  });

  it('gives a failed test’s own traceback as raw details', () => {
    const report = passingReport({ passed: false });
    report.tests.cases = [testCase('tests/test_a.py::test_b', { outcome: 'failed', line: 4, details: 'E   assert 1 == 2' })];
    expect(only(report)).toMatchObject({ path: 'tests/test_a.py', start_line: 4, raw_details: 'E   assert 1 == 2' });
  });

  it('places a failed test without a path at the file of its node id, line 1', () => {
    const report = passingReport();
    report.tests.cases = [
      testCase('tests/test_x.py::TestA::test_b[1]', { outcome: 'error' }),
      testCase('weird-id', { outcome: 'failed' }),
    ];
    expect(toAnnotations(report)).toEqual([
      {
        path: 'tests/test_x.py',
        start_line: 1,
        end_line: 1,
        annotation_level: 'failure',
        title: 'test error',
        message: 'tests/test_x.py::TestA::test_b[1] error',
      },
    ]);
  });

  it('keeps message and raw_details within GitHub’s 64 KB each, counted in UTF-8 bytes', () => {
    const annotation = only(reportWith([finding({ message: 'é'.repeat(40_000), details: '😀'.repeat(20_000) })]));
    expect(Buffer.byteLength(annotation.message)).toBeLessThanOrEqual(65_535);
    expect(Buffer.byteLength(annotation.raw_details!)).toBeLessThanOrEqual(65_535);
    expect(annotation.message.endsWith('é…')).toBe(true);
    expect(annotation.raw_details!.endsWith('😀…')).toBe(true);
  });

  it('drops terminal escapes from messages', () => {
    expect(only(reportWith([finding({ message: '\x1b[31mred\x1b[0m' })])).message).toBe('red');
  });

  it('gives a finding with an empty message its title as message (GitHub requires one)', () => {
    const report = passingReport();
    report.stages[2] = stageResult('security', { findings: [finding({ rule: 'S101', message: '' })] });
    expect(only(report).message).toBe('security S101');
  });
});

describe('batchAnnotations', () => {
  it('splits 120 annotations into requests of 50, 50 and 20, in order', () => {
    const annotations = toAnnotations(reportWithFindings(120));
    const batches = batchAnnotations(annotations);
    expect(batches.map((b) => b.length)).toEqual([50, 50, 20]);
    expect(batches.flat()).toEqual(annotations);
  });

  it('makes no batch of nothing', () => {
    expect(batchAnnotations([])).toEqual([]);
  });

  it('refuses a batch size that is not a positive integer', () => {
    expect(() => batchAnnotations([], 0)).toThrow(RangeError);
  });
});
