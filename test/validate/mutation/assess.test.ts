import { describe, expect, it } from 'vitest';
import { mutationOutcome, mutationReport } from '../../../src/validate/mutation/assess.js';
import { MutationConfigSchema } from '../../../src/validate/mutation/config.js';
import { describeSurvivor, survivorsForModel } from '../../../src/validate/mutation/feedback.js';
import { readRecords, type MadeMutant, type RunStatus } from '../../../src/validate/mutation/records.js';

const config = (overrides: Record<string, unknown> = {}) => MutationConfigSchema.parse(overrides);

/** A run's output as python/mutate.py writes it: `outcomes[i]` for mutant i, 'none' for one never run. */
function output(outcomes: ReadonlyArray<RunStatus | 'notCovered' | 'none'>, extra = ''): string {
  const mutants: MadeMutant[] = outcomes.map((o, id) => ({
    id,
    path: id % 2 ? 'b.py' : 'a.py',
    line: 10 + id,
    operator: 'compare',
    original: `if n < ${id}:`,
    mutated: `if n <= ${id}:`,
    tests: o === 'notCovered' ? 0 : 2,
  }));
  const lines = [JSON.stringify({ kind: 'mutants', mutants })];
  outcomes.forEach((o, id) => {
    if (o !== 'notCovered' && o !== 'none') lines.push(JSON.stringify({ kind: 'result', id, status: o, seconds: 0.1 }));
  });
  lines.push(JSON.stringify({ kind: 'done', stopped: outcomes.includes('none') ? 'budget' : null, seconds: 1 }));
  return lines.join('\n') + '\n' + extra;
}

describe('the mutation report', () => {
  it('counts each status, scores timed-out mutants as killed, and leaves lines no test runs out of the score', () => {
    const report = mutationReport(readRecords(output(['killed', 'killed', 'timedOut', 'survived', 'notCovered', 'error'])));
    expect(report).toMatchObject({ score: 75, killed: 2, timedOut: 1, survived: 1, notCovered: 1, sampled: 6, total: 6 });
    expect(report.mutants.map((m) => `${m.path}:${m.line}`)).toEqual(['a.py:10', 'a.py:12', 'a.py:14', 'b.py:11', 'b.py:13', 'b.py:15']);
    expect(report.mutants[0]).toEqual({ path: 'a.py', line: 10, operator: 'compare', original: 'if n < 0:', mutated: 'if n <= 0:', status: 'killed' });
  });

  it('leaves out the mutants the budget cut off, and says how many were sampled', () => {
    const report = mutationReport(readRecords(output(['killed', 'none', 'survived', 'none'])));
    expect(report).toMatchObject({ score: 50, sampled: 2, total: 4 });
    expect(mutationOutcome(report, config({ budget_seconds: 12 })).summary).toBe('mutation score 50% (1 of 2 mutants killed); 2 of 4 mutants sampled within the 12 s budget');
  });

  it('skips a cut-off last line and anything that is not a record', () => {
    const records = readRecords(output(['killed'], '{"kind": "result", "id": 0, "sta'));
    expect(records.unreadable).toBe(1);
    expect(records.results.get(0)).toEqual({ status: 'killed', seconds: 0.1 });
  });
});

describe('the mutation stage outcome', () => {
  it('passes when every mutant is killed, in the words of the pull request', () => {
    const report = mutationReport(readRecords(output(Array(25).fill('killed'))));
    expect(mutationOutcome(report, config())).toEqual({ name: 'mutation', status: 'passed', summary: 'mutation score 100% (25 of 25 mutants killed)', findings: [] });
  });

  it('warns with each surviving mutant on its line', () => {
    const report = mutationReport(readRecords(output([...Array(23).fill('killed'), 'survived', 'survived'])));
    const outcome = mutationOutcome(report, config());
    expect(outcome.status).toBe('warning');
    expect(outcome.summary).toBe('mutation score 92% (23 of 25 mutants killed)');
    expect(outcome.findings).toEqual([
      { path: 'a.py', line: 34, rule: 'mutant-survived', message: 'no test fails when line 34 `if n < 24:` becomes `if n <= 24:` (compare)', severity: 'warning' },
      { path: 'b.py', line: 33, rule: 'mutant-survived', message: 'no test fails when line 33 `if n < 23:` becomes `if n <= 23:` (compare)', severity: 'warning' },
    ]);
  });

  it('states the score as the report and the pull request do, to one decimal', () => {
    const report = mutationReport(readRecords(output(['killed', 'killed', 'survived'])));
    expect(report.score).toBe(66.7);
    expect(mutationOutcome(report, config()).summary).toBe('mutation score 66.7% (2 of 3 mutants killed)');
  });

  it('holds the score against min_score: a warning below it, a failure with fail, a pass at or above it', () => {
    const report = mutationReport(readRecords(output(['killed', 'killed', 'killed', 'survived'])));
    expect(mutationOutcome(report, config({ min_score: 80 }))).toMatchObject({ status: 'warning', summary: 'mutation score 75% (3 of 4 mutants killed) (below 80%)' });
    const failing = mutationOutcome(report, config({ min_score: 80, fail: true }));
    expect(failing.status).toBe('failed');
    expect(failing.findings.map((f) => f.severity)).toEqual(['error']);
    const met = mutationOutcome(report, config({ min_score: 75, fail: true }));
    expect(met.status).toBe('passed');
    expect(met.findings.map((f) => f.severity)).toEqual(['warning']);
  });

  it('counts mutants on lines no test runs, and has no score when no mutant could run', () => {
    const some = mutationReport(readRecords(output(['killed', 'notCovered', 'notCovered'])));
    expect(mutationOutcome(some, config()).summary).toBe('mutation score 100% (1 of 1 mutant killed); 2 mutants on lines no test runs');
    const none = mutationReport(readRecords(output(['notCovered', 'notCovered'])));
    expect(mutationOutcome(none, config())).toMatchObject({ status: 'warning', summary: 'no mutation score: no test runs the lines of the 2 mutants' });
    const cut = mutationReport(readRecords(output(['none', 'none', 'notCovered'])));
    expect(mutationOutcome(cut, config())).toMatchObject({ status: 'warning', summary: 'no mutation score: no mutant finished within the 30 s budget (3 made); 1 mutant on lines no test runs' });
    expect(mutationOutcome(mutationReport(readRecords(output([]))), config())).toMatchObject({ status: 'skipped' });
  });
});

describe('surviving mutants for the model', () => {
  it('says what change no test notices, line by line, grouped by file', () => {
    expect(describeSurvivor({ line: 12, original: 'if n < 1:', mutated: 'if n <= 1:' })).toBe('no test fails when line 12 `if n < 1:` becomes `if n <= 1:`');
    const report = mutationReport(readRecords(output(['survived', 'killed', 'survived', 'survived'])));
    expect(survivorsForModel(report)).toBe(
      ['In `a.py`:', '- no test fails when line 10 `if n < 0:` becomes `if n <= 0:`', '- no test fails when line 12 `if n < 2:` becomes `if n <= 2:`', 'In `b.py`:', '- no test fails when line 13 `if n < 3:` becomes `if n <= 3:`'].join('\n'),
    );
    expect(survivorsForModel(report, 1)).toBe('In `a.py`:\n- no test fails when line 10 `if n < 0:` becomes `if n <= 0:`\n(and 2 more surviving mutants)');
    expect(survivorsForModel(mutationReport(readRecords(output(['killed']))))).toBe('');
  });

  it('quotes code that holds backticks so that they cannot end the quote', () => {
    expect(describeSurvivor({ line: 3, original: 'x = "`a`"', mutated: 'x = "XX`a`XX"' })).toBe('no test fails when line 3 ``x = "`a`"`` becomes ``x = "XX`a`XX"``');
  });
});
