import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/render/markdown.js';
import type { Report } from '../../src/validate/report.js';
import { changeScopedReport, failingReport, finding, passingReport, reportWithFindings, stageResult, testCase } from '../fixtures/reports.js';

function withLintFindings(...findings: ReturnType<typeof finding>[]): Report {
  const report = passingReport();
  return { ...report, stages: report.stages.map((s) => (s.name === 'lint' ? { ...s, findings } : s)) };
}

describe('renderMarkdown', () => {
  it('renders a failing report as headline, stage table, failed tests with their traceback, then findings by stage', () => {
    expect(renderMarkdown(failingReport())).toMatchInlineSnapshot(`
      "## ❌ Code4Py validation failed

      **3 passed, 1 failed** · coverage 87.5% · 3.4 s · sandbox \`bwrap\`

      | Stage | Status | Summary |
      | --- | --- | --- |
      | syntax | ✅ passed | 4 files parse |
      | lint | ⚠️ warning | 1 finding |
      | security | ❌ failed | 1 finding at or above medium |
      | dependencies | ✅ passed | standard library only |
      | tests | ❌ failed | 3 passed, 1 failed |
      | coverage | ✅ passed | 87.5% of statements (minimum 80%) |

      ### Failed tests

      - ❌ \`tests/test_calc.py::test_div\` failed — ZeroDivisionError: division by zero
        <details><summary>Details</summary>

        \`\`\`text
            def test_div():
        >       assert div(1, 0) == 0
        E       ZeroDivisionError: division by zero

        src/calc.py:12: ZeroDivisionError
        \`\`\`

        </details>

      ### Findings

      #### lint (1)

      - ⚠️ \`src/calc.py:3\` \`E501\` — Line too long (97 &gt; 88)

      #### security (1)

      - ❌ \`src/run.py:7\` \`S602\` — subprocess call with shell=True identified, security issue
      "
    `);
  });

  it('renders a passing report as headline and stage table only', () => {
    expect(renderMarkdown(passingReport())).toMatchInlineSnapshot(`
      "## ✅ Code4Py validation passed

      **4 passed, 0 failed** · coverage 87.5% · 3.4 s · sandbox \`bwrap\`

      | Stage | Status | Summary |
      | --- | --- | --- |
      | syntax | ✅ passed | 4 files parse |
      | lint | ✅ passed | no findings |
      | security | ✅ passed | no findings |
      | dependencies | ✅ passed | standard library only |
      | tests | ✅ passed | 4 passed |
      | coverage | ✅ passed | 87.5% of statements (minimum 80%) |
      "
    `);
  });

  describe('headline', () => {
    it('adds errors, skipped and a time-out to the counts only when there are any', () => {
      const report = passingReport({
        passed: false,
        tests: { ...passingReport().tests, errors: 2, skipped: 1, timedOut: true },
        durationMs: 125_000,
      });
      expect(renderMarkdown(report).split('\n')[2]).toBe(
        '**4 passed, 0 failed, 2 errors, 1 skipped, timed out** · coverage 87.5% · 2 min 5 s · sandbox `bwrap`',
      );
    });

    it('leaves coverage out when it could not be measured, and uses the given title', () => {
      const report = passingReport({ coverage: { percent: null, files: [] }, durationMs: 850 });
      const [headline, , facts] = renderMarkdown(report, { title: 'Code4Py check' }).split('\n');
      expect(headline).toBe('## ✅ Code4Py check passed');
      expect(facts).toBe('**4 passed, 0 failed** · 850 ms · sandbox `bwrap`');
    });
  });

  describe('escaping report text', () => {
    it('keeps a pipe and a newline in a stage summary inside its table cell', () => {
      const report = passingReport();
      report.stages[1] = stageResult('lint', { summary: 'a | b\nc' });
      const rows = renderMarkdown(report).split('\n').filter((line) => line.startsWith('| lint'));
      expect(rows).toEqual(['| lint | ✅ passed | a \\| b<br>c |']);
    });

    it('keeps a pipe and a newline in a message on the finding’s line', () => {
      const text = renderMarkdown(withLintFindings(finding({ message: 'expected a | b\ngot c' })));
      expect(text).toContain('- ⚠️ `src/calc.py:3` `E501` — expected a \\| b<br>got c\n');
    });

    it('turns HTML, markdown syntax and mentions in messages into plain text', () => {
      const text = renderMarkdown(withLintFindings(finding({ message: '<img src=x> & **bold** [link](http://x) $x$ `c` @octocat' })));
      expect(text).toContain(
        '— &lt;img src=x&gt; &amp; \\*\\*bold\\*\\* \\[link\\](http://x) \\$x\\$ \\`c\\` @&#8203;octocat',
      );
    });

    it('puts paths and rules in code spans longer than any backtick run in them', () => {
      const text = renderMarkdown(withLintFindings(finding({ path: 'src/`odd``.py', rule: 'X`1', line: 0 })));
      expect(text).toContain('- ⚠️ ```src/`odd``.py``` ``X`1`` —');
    });

    it('fences details with more backticks than any fence inside them', () => {
      const details = 'before\n```python\nx = 1\n````\n</details>';
      const text = renderMarkdown(withLintFindings(finding({ details })));
      expect(text).toContain(
        [
          '  <details><summary>Details</summary>',
          '',
          '  `````text',
          '  before',
          '  ```python',
          '  x = 1',
          '  ````',
          '  </details>',
          '  `````',
          '',
          '  </details>',
        ].join('\n'),
      );
    });
  });

  describe('failed tests', () => {
    it('lists a failed or erroring test with its message, and a multi-line message in details', () => {
      const report = failingReport();
      report.tests.cases.push(
        testCase('tests/test_io.py::test_read', { outcome: 'error', message: 'fixture "tmp" not found\navailable: tmp_path' }),
      );
      const text = renderMarkdown(report);
      expect(text).toContain('- ❌ `tests/test_calc.py::test_div` failed — ZeroDivisionError: division by zero\n');
      expect(text).toContain(
        [
          '- ❌ `tests/test_io.py::test_read` error — fixture "tmp" not found',
          '  <details><summary>Details</summary>',
          '',
          '  ```text',
          '  fixture "tmp" not found',
          '  available: tmp_path',
          '  ```',
        ].join('\n'),
      );
    });

    it('shows the test’s own traceback when the tests stage reported no finding for it', () => {
      const report = passingReport({ passed: false });
      report.tests.cases = [
        testCase('tests/test_a.py::test_b', { outcome: 'failed', message: 'assert 1 == 2', details: '>   assert 1 == 2\nE   assert 1 == 2' }),
      ];
      expect(renderMarkdown(report)).toContain(
        '- ❌ `tests/test_a.py::test_b` failed — assert 1 == 2\n  <details><summary>Details</summary>\n\n  ```text\n  >   assert 1 == 2\n',
      );
    });

    it('does not list the tests stage’s finding for a failed test a second time', () => {
      expect(renderMarkdown(failingReport())).not.toContain('#### tests');
    });
  });

  it('lists a finding about the whole folder without a place', () => {
    const report = passingReport({ passed: false });
    report.stages[4] = stageResult('tests', {
      status: 'failed', findings: [finding({ path: '.', line: 0, rule: 'no-tests', severity: 'error', message: 'no tests were found' })],
    });
    expect(renderMarkdown(report)).toContain('#### tests (1)\n\n- ❌ `no-tests` — no tests were found\n');
  });

  describe('length cap', () => {
    const long = reportWithFindings(2_000, { message: 'x'.repeat(200) });

    it('stays under 60000 characters by default, keeping the stage table and counting what it left out', () => {
      const text = renderMarkdown(long, { maxFindings: 10_000 });
      expect(text.length).toBeLessThanOrEqual(60_000);
      expect(text).toContain('| coverage | ✅ passed | 87.5% of statements (minimum 80%) |');
      const shown = text.split('\n').filter((line) => line.startsWith('- ')).length;
      expect(text.endsWith(`\n\n… and ${2_000 - shown} more findings\n`)).toBe(true);
      expect(shown).toBeGreaterThan(200);
    });

    it('honours a smaller maxLength', () => {
      const text = renderMarkdown(long, { maxLength: 3_000 });
      expect(text.length).toBeLessThanOrEqual(3_000);
      expect(text).toContain('| Stage | Status | Summary |');
      expect(text).toMatch(/… and \d+ more findings\n$/);
    });

    it('gives the room to the worst findings, whatever their stage', () => {
      const report = reportWithFindings(500, { message: 'w'.repeat(200) });
      report.stages[2] = stageResult('security', {
        status: 'failed',
        findings: [finding({ path: 'src/run.py', rule: 'S602', severity: 'error', message: 'shell=True' })],
      });
      const text = renderMarkdown(report, { maxLength: 5_000 });
      expect(text).toContain('#### security (1)\n\n- ❌ `src/run.py:3` `S602` — shell=True');
    });

    it('lists at most maxFindings findings', () => {
      const text = renderMarkdown(reportWithFindings(5), { maxFindings: 3 });
      expect(text.split('\n').filter((line) => line.startsWith('- '))).toHaveLength(3);
      expect(text.endsWith('\n\n… and 2 more findings\n')).toBe(true);
    });

    it('cuts the middle out of a very long traceback', () => {
      const details = Array.from({ length: 2_000 }, (_, i) => `line ${i}`).join('\n');
      const text = renderMarkdown(withLintFindings(finding({ details })));
      expect(text).toContain('  line 0\n');
      expect(text).toContain('  line 1999\n');
      expect(text).toMatch(/\n {2}… \d+ characters cut …\n/);
      expect(text.length).toBeLessThan(7_000);
    });
  });

  describe('a change-scoped report', () => {
    it('says under the headline what the change did, one line each, and marks the findings that were there before it', () => {
      expect(renderMarkdown(changeScopedReport())).toMatchInlineSnapshot(`
        "## ❌ Code4Py validation failed

        **4 passed, 0 failed** · coverage 87.5% · 3.4 s · sandbox \`bwrap\`

        - 4 of 5 new or changed tests fail on the base branch and pass with this change
        - patch coverage 92% (23 of 25 changed lines)
        - mutation score 92% (23 of 25 mutants killed)
        - regressed: \`tests/test_calc.py::test_add\`, \`tests/test_calc.py::test_sub\`
        - 2 findings were there on the base branch already (marked pre-existing; not counted)

        | Stage | Status | Summary |
        | --- | --- | --- |
        | syntax | ✅ passed | 4 files parse |
        | lint | ⚠️ warning | 3 findings |
        | security | ✅ passed | no findings |
        | dependencies | ✅ passed | standard library only |
        | tests | ✅ passed | 4 passed |
        | coverage | ✅ passed | 87.5% of statements (minimum 80%) |

        ### Findings

        #### lint (3)

        - ⚠️ \`src/calc.py:3\` \`E501\` — Line too long (97 &gt; 88)
        - ⚠️ \`src/calc.py:9\` \`F401\` — \\\`os\\\` imported but unused (pre-existing)
        - ℹ️ \`src/calc.py:12\` \`not-checked\` — old note (pre-existing)
        "
      `);
    });
  });
});
