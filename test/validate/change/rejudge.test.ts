import { describe, expect, it } from 'vitest';
import { rejudgeTests } from '../../../src/validate/change/rejudge.js';
import { stage, type Finding } from '../../../src/validate/report.js';

const failure = (id: string, outcome: 'failed' | 'errored'): Finding => ({
  path: 'tests/test_units.py',
  line: 3,
  rule: outcome === 'failed' ? 'test-failed' : 'test-error',
  message: `${id} ${outcome}: assert 1 == 2`,
  severity: 'error',
});

describe('the tests stage judged on a change', () => {
  it('matches each failing test by its whole id, also a parametrized one with spaces in it', () => {
    const regressed = 'tests/test_units.py::test_convert[1 km-1000 m]';
    const still = 'tests/test_units.py::test_convert[one mile-1609 m]';
    const result = { ...stage('tests', 'failed', '1 passed, 2 failed', [failure(regressed, 'failed'), failure(still, 'errored')]), durationMs: 5 };
    const judged = rejudgeTests(result, { passed: 1, failed: 1, errors: 1, skipped: 0, timedOut: false }, {
      comparison: { regressed: [regressed], newFailing: [], stillFailing: [still], fixed: [], removed: [] },
      changed: [],
      problems: [],
      baseIncomplete: null,
      failing: [regressed, still],
    });
    expect(judged.status).toBe('failed');
    expect(judged.findings).toEqual([
      expect.objectContaining({ introduced: true, message: `regressed (passed on the base commit): ${regressed} failed: assert 1 == 2` }),
      expect.objectContaining({ introduced: false, message: `${still} errored: assert 1 == 2` }),
    ]);
    expect(judged.summary).toBe('1 passed, 1 failed, 1 error; 1 regressed; 1 failing on the base commit too, not counted');
  });
});
