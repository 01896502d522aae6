import { stage, type Finding, type Mutant, type MutationReport, type StageOutcome } from '../report.js';
import { plural } from '../stages/syntax.js';
import type { MutationConfig } from './config.js';
import { describeSurvivor } from './feedback.js';
import type { MutationRecords } from './records.js';

/**
 * The report of one mutation run: every mutant that was run (a sample when the budget ran short) and every
 * mutant on a line no test runs, ordered by file and line. Mutants cut off by the budget are left out.
 */
export function mutationReport(records: MutationRecords): MutationReport {
  const mutants: Mutant[] = [];
  for (const made of records.mutants) {
    const result = records.results.get(made.id);
    const status = made.tests === 0 ? 'notCovered' : result?.status;
    if (!status) continue;
    mutants.push({ path: made.path, line: made.line, operator: made.operator, original: made.original, mutated: made.mutated, status });
  }
  mutants.sort((a, b) => a.path.localeCompare(b.path) || a.line - b.line);
  const count = (status: Mutant['status']): number => mutants.filter((m) => m.status === status).length;
  const killed = count('killed');
  const timedOut = count('timedOut');
  const survived = count('survived');
  const tested = killed + timedOut + survived;
  return {
    score: tested === 0 ? null : Math.round(((killed + timedOut) / tested) * 1000) / 10,
    killed,
    survived,
    timedOut,
    notCovered: count('notCovered'),
    sampled: mutants.length,
    total: records.mutants.length,
    mutants,
  };
}

/**
 * The stage's outcome. Surviving mutants are findings on their lines: warnings, or errors when the score is
 * below `min_score` and `fail` is set. The stage passes at or above `min_score`; without one, it passes only
 * when no mutant survives.
 */
export function mutationOutcome(report: MutationReport, config: MutationConfig, budgetSeconds = config.budget_seconds): StageOutcome {
  if (report.total === 0) return stage('mutation', 'skipped', 'no mutants: the changed lines hold nothing to mutate');
  const sample = report.sampled < report.total ? `; ${report.sampled} of ${report.total} mutants sampled within the ${budgetSeconds} s budget` : '';
  const uncovered = report.notCovered > 0 ? `; ${report.notCovered} ${plural(report.notCovered, 'mutant')} on lines no test runs` : '';
  if (report.score === null) {
    const why =
      report.sampled === report.total
        ? `no test runs the lines of the ${report.total} ${plural(report.total, 'mutant')}`
        : `no mutant finished within the ${budgetSeconds} s budget (${report.total} made)${uncovered}`;
    return stage('mutation', 'warning', `no mutation score: ${why}`);
  }
  const caught = report.killed + report.timedOut;
  const tested = caught + report.survived;
  const below = config.min_score !== undefined && report.score < config.min_score;
  const failing = below && config.fail;
  const unmet = below || (config.min_score === undefined && report.survived > 0);
  const status = failing ? 'failed' : unmet ? 'warning' : 'passed';
  const findings: Finding[] = report.mutants
    .filter((m) => m.status === 'survived')
    .map((m) => ({ path: m.path, line: m.line, rule: 'mutant-survived', message: `${describeSurvivor(m)} (${m.operator})`, severity: failing ? 'error' : 'warning' }));
  const threshold = below ? ` (below ${config.min_score}%)` : '';
  const summary = `mutation score ${report.score}% (${caught} of ${tested} ${plural(tested, 'mutant')} killed)${threshold}${uncovered}${sample}`;
  return stage('mutation', status, summary, findings);
}
