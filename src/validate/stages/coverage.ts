import { z } from 'zod';
import { parseJsonOrNull } from '../../json.js';
import type { ValidationConfig } from '../../config/schema.js';
import { stage, type Coverage, type Finding, type StageOutcome } from '../report.js';
import { isPythonFile, isTestFile, type SourceFile } from '../source.js';
import { testFileRule } from '../test-files.js';

const CoverageJson = z.object({
  files: z.record(
    z.string(),
    z.object({
      summary: z.object({ percent_covered: z.number(), num_statements: z.number() }),
      missing_lines: z.array(z.number().int()),
    }),
  ),
  totals: z.object({ percent_covered: z.number(), num_statements: z.number() }),
});

export interface CoverageResult {
  readonly stage: StageOutcome;
  readonly coverage: Coverage;
}

/** Reads coverage.py's JSON report (statement coverage of the non-test files) and holds it against `tests.coverage_min`. */
export function assessCoverage(json: string | null, files: readonly SourceFile[], testsRan: boolean, config: ValidationConfig): CoverageResult {
  const none: Coverage = { percent: null, files: [] };
  const tests = testFileRule(files);
  const sources = files.filter((f) => isPythonFile(f.path) && !isTestFile(f.path, tests));
  if (sources.length === 0) return { stage: stage('coverage', 'skipped', 'no non-test Python files to measure'), coverage: none };
  if (!testsRan) return { stage: stage('coverage', 'skipped', 'not measured: the tests did not run'), coverage: none };
  const parsed = json === null ? null : CoverageJson.safeParse(parseJsonOrNull(json));
  if (!parsed?.success) return { stage: stage('coverage', 'error', 'coverage.py wrote no usable report'), coverage: none };

  const report = parsed.data;
  const perFile = Object.entries(report.files)
    .filter(([path]) => !isTestFile(path, tests))
    .map(([path, data]) => ({ path, percent: round(data.summary.percent_covered), missingLines: data.missing_lines }));
  const percent = round(report.totals.percent_covered);
  const min = config.tests.coverage_min;
  const below = percent < min;
  const severity = below && config.tests.coverage_fail ? 'error' : 'warning';
  const findings: Finding[] = perFile
    .filter((f) => f.missingLines.length > 0 && f.percent < min)
    .map((f) => ({
      path: f.path,
      line: f.missingLines[0] ?? 0,
      rule: 'uncovered',
      message: `${f.percent}% covered; lines not run by any test: ${ranges(f.missingLines)}`,
      severity: below ? severity : 'info',
    }));
  const status = !below ? 'passed' : config.tests.coverage_fail ? 'failed' : 'warning';
  const summary = `${percent}% of ${report.totals.num_statements} statements in ${perFile.length} non-test ${perFile.length === 1 ? 'file' : 'files'}${below ? ` (below ${min}%)` : ''}`;
  return { stage: stage('coverage', status, summary, findings), coverage: { percent, files: perFile } };
}

/** `[1,2,3,7,9,10]` → `1-3, 7, 9-10`. */
export function ranges(lines: readonly number[]): string {
  const sorted = [...lines].sort((a, b) => a - b);
  const parts: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === (sorted[j] ?? 0) + 1) j++;
    parts.push(i === j ? `${sorted[i]}` : `${sorted[i]}-${sorted[j]}`);
    i = j + 1;
  }
  return parts.join(', ');
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
