import { describe, expect, it } from 'vitest';
import { defaultValidationConfig, ValidationConfigSchema } from '../../src/config/schema.js';
import { assessCoverage, ranges } from '../../src/validate/stages/coverage.js';
import type { SourceFile } from '../../src/validate/source.js';

const files: SourceFile[] = [
  { path: 'calc.py', text: '', bytes: 0 },
  { path: 'test_calc.py', text: '', bytes: 0 },
];

function json(percent: number, missing: number[]) {
  return JSON.stringify({
    files: { 'calc.py': { summary: { percent_covered: percent, num_statements: 10 }, missing_lines: missing } },
    totals: { percent_covered: percent, num_statements: 10 },
  });
}

describe('coverage stage', () => {
  it('passes at or above the threshold', () => {
    const result = assessCoverage(json(90, [7]), files, true, defaultValidationConfig());
    expect(result.stage.status).toBe('passed');
    expect(result.coverage).toEqual({ percent: 90, files: [{ path: 'calc.py', percent: 90, missingLines: [7] }] });
    expect(result.stage.summary).toBe('90% of 10 statements in 1 non-test file');
  });

  it('warns below the threshold, naming the lines no test ran', () => {
    const result = assessCoverage(json(50, [3, 4, 5, 8, 10]), files, true, defaultValidationConfig());
    expect(result.stage.status).toBe('warning');
    expect(result.stage.findings).toEqual([
      { path: 'calc.py', line: 3, rule: 'uncovered', message: '50% covered; lines not run by any test: 3-5, 8, 10', severity: 'warning' },
    ]);
  });

  it('fails below the threshold when configured to', () => {
    const config = ValidationConfigSchema.parse({ tests: { coverage_min: 95, coverage_fail: true } });
    expect(assessCoverage(json(90, [1]), files, true, config).stage.status).toBe('failed');
  });

  it('is skipped when there is nothing but tests, or when the tests did not run', () => {
    expect(assessCoverage(null, [files[1]!], true, defaultValidationConfig()).stage.status).toBe('skipped');
    expect(assessCoverage(null, files, false, defaultValidationConfig()).stage.status).toBe('skipped');
  });

  it('says so when coverage.py left no usable report', () => {
    expect(assessCoverage('{"not": "coverage"}', files, true, defaultValidationConfig()).stage.status).toBe('error');
  });

  it('folds line numbers into ranges', () => {
    expect(ranges([10, 1, 2, 3, 5])).toBe('1-3, 5, 10');
  });
});
