import { z } from 'zod';
import type { ValidationConfig } from '../../config/schema.js';
import { parseJsonOrNull } from '../../json.js';
import { stage, type Coverage, type Finding, type StageOutcome } from '../report.js';
import { isTestFile } from '../source.js';
import { ranges } from '../stages/coverage.js';
import { changedLinesOf, touchedCode, type ChangeSet } from './change-set.js';

const CoverageJson = z.object({
  files: z.record(
    z.string(),
    z.object({
      executed_lines: z.array(z.number().int()),
      missing_lines: z.array(z.number().int()),
      summary: z.object({ percent_covered: z.number(), num_statements: z.number() }),
    }),
  ),
  totals: z.object({ percent_covered: z.number(), num_statements: z.number() }),
});

/**
 * Coverage of the change: of the executable lines the change adds or modifies in non-test files, the share
 * the tests run (patch coverage), held against `tests.coverage_min`. Only the files the change touches are
 * measured (tracing nothing else keeps the test run fast), so the total shown is theirs.
 */
export function assessPatchCoverage(json: string | null, change: ChangeSet, testsRan: boolean, config: ValidationConfig): { stage: StageOutcome; coverage: Coverage } {
  const code = touchedCode(change);
  const none: Coverage = { percent: null, files: [] };
  if (code.length === 0) return { stage: stage('coverage', 'skipped', 'the change touches no non-test Python file'), coverage: none };
  if (!testsRan) return { stage: stage('coverage', 'skipped', 'not measured: the tests did not run'), coverage: none };
  const parsed = json === null ? null : CoverageJson.safeParse(parseJsonOrNull(json));
  if (!parsed?.success) return { stage: stage('coverage', 'error', 'coverage.py wrote no usable report'), coverage: none };

  let covered = 0;
  let total = 0;
  const uncovered: Array<{ path: string; lines: number[] }> = [];
  const files: Coverage['files'] = [];
  for (const [path, data] of Object.entries(parsed.data.files)) {
    if (isTestFile(path, change.tests)) continue;
    files.push({ path, percent: round(data.summary.percent_covered), missingLines: data.missing_lines });
    const changed = changedLinesOf(change, path);
    if (changed === null) continue;
    const executed = new Set(data.executed_lines);
    const executable = [...data.executed_lines, ...data.missing_lines].filter((line) => changed === 'all' || changed.has(line));
    const missed = executable.filter((line) => !executed.has(line)).sort((a, b) => a - b);
    total += executable.length;
    covered += executable.length - missed.length;
    if (missed.length > 0) uncovered.push({ path, lines: missed });
  }
  const percent = total === 0 ? null : round((covered / total) * 100);
  const coverage: Coverage & { changedLines: { covered: number; total: number; percent: number | null } } = {
    percent: round(parsed.data.totals.percent_covered),
    files,
    changedLines: { covered, total, percent },
  };
  const min = config.tests.coverage_min;
  const below = percent !== null && percent < min;
  const severity: Finding['severity'] = below ? (config.tests.coverage_fail ? 'error' : 'warning') : 'info';
  const findings: Finding[] = uncovered.map((f) => ({
    path: f.path,
    line: f.lines[0] ?? 0,
    rule: 'uncovered-change',
    message: `changed lines no test runs: ${ranges(f.lines)}`,
    severity,
    introduced: true,
  }));
  const measured = `of the changed files ${coverage.percent}% of ${parsed.data.totals.num_statements} statements`;
  if (percent === null) return { stage: stage('coverage', 'passed', `the change adds no executable line (${measured})`, findings), coverage };
  const status = !below ? 'passed' : config.tests.coverage_fail ? 'failed' : 'warning';
  const summary = `${percent}% of the ${total} changed executable ${total === 1 ? 'line' : 'lines'} run by the tests${below ? ` (below ${min}%)` : ''}; ${measured}`;
  return { stage: stage('coverage', status, summary, findings), coverage };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
