import { describe, expect, it } from 'vitest';
import {
  costLine, formatUsd, renderPullRequestBody, renderValidationSection, replaceBodySection, reproduceCommand, type PullRequestContent,
} from '../../src/render/pull-request.js';
import { BASE_SHA, changeScopedReport, failingReport, passingReport } from '../fixtures/reports.js';

const PACKAGE = { name: 'code4py', version: '0.1.0' };

function content(overrides: Partial<PullRequestContent> = {}): PullRequestContent {
  return {
    issue: 7,
    summary: 'Adds `median(values)` to stats.py, with tests for odd, even and empty lists.',
    requirements: ['median of a non-empty list of numbers', 'ValueError on an empty list'],
    assumptions: ['the list is not sorted'],
    files: [{ path: 'stats.py', kind: 'added' }, { path: 'test_stats.py', kind: 'added' }],
    notWritten: [],
    contextFiles: ['README.md'],
    report: passingReport({ python: { version: '3.11.2', path: '/usr/bin/python3' }, sandbox: 'bwrap (cgroup limits), Python 3.11.2, pytest 8.3.5, coverage 7.6.1' }),
    attempts: 1,
    tokens: { prompt: 9_000, completion: 3_345, total: 12_345, calls: 2 },
    model: 'gpt-4o-mini',
    command: '/code4py',
    package: PACKAGE,
    checkRunUrl: 'https://github.com/octo/calc/runs/42',
    costUsd: 0.00336,
    ...overrides,
  };
}

describe('the pull request body', () => {
  it('holds the summary, requirements, assumptions and files, then a validation result of a few lines that links to the check run', () => {
    expect(renderPullRequestBody(content())).toMatchInlineSnapshot(`
      "## Summary

      Adds \\\`median(values)\\\` to stats.py, with tests for odd, even and empty lists.

      ## Requirements understood

      - median of a non-empty list of numbers
      - ValueError on an empty list

      ## Assumptions

      - the list is not sorted

      <!-- code4py:files -->

      ## Files

      - \`stats.py\` (added)
      - \`test_stats.py\` (added)

      <!-- /code4py:files -->

      <!-- code4py:validation -->

      ## Validation (attempt 1): ✅ passed

      - **4 tests passed** · coverage 87.5% · validated in 3.4 s
      - findings: none
      - cost: $0.0034 (12,345 tokens in 2 model calls)

      Every finding, with its place in the code: [the Code4Py validation check](https://github.com/octo/calc/runs/42).

      Reproduce it on a checkout of this branch: \`npx code4py@0.1.0 validate .\`

      <details><summary>Sandbox and tool versions</summary>

      - sandbox: \`bwrap (cgroup limits), Python 3.11.2, pytest 8.3.5, coverage 7.6.1\`
      - model: \`gpt-4o-mini\`
      - validated by \`code4py 0.1.0\`

      </details>

      <!-- /code4py:validation -->

      <details><summary>Repository files given as context (1)</summary>

      - \`README.md\`

      </details>

      ## Commands

      - \`/code4py refine <feedback>\`: a new commit on this branch that follows your feedback (a review or line comment mentioning \`/code4py\` works too)
      - \`/code4py retry\`: run the task again · \`/code4py cancel\`: stop it · \`/code4py help\`: all commands

      Closes #7"
    `);
  });

  it('counts findings by severity instead of copying them, and names the failing tests', () => {
    const body = renderPullRequestBody(content({ report: failingReport() }));
    expect(body).toContain('## Validation (attempt 1): ❌ failed');
    expect(body).toContain('- **3 tests passed, 1 failed** · coverage 87.5% · validated in 3.4 s');
    expect(body).toContain('- findings: 1 security error, 1 lint warning');
    expect(body).toContain('- failing: `tests/test_calc.py::test_div`');
    // The findings themselves and the traceback are the check run's.
    expect(body).not.toContain('Line too long');
    expect(body).not.toContain('shell=True');
    expect(body).not.toContain('ZeroDivisionError');
  });

  it('states the cost in USD when the price is known, and the tokens when it is not', () => {
    expect(renderPullRequestBody(content())).toContain('- cost: $0.0034 (12,345 tokens in 2 model calls)');
    expect(renderPullRequestBody(content({ costUsd: null, model: 'qwen2.5-coder:7b' }))).toContain('- cost: 12,345 tokens in 2 model calls (no price known for `qwen2.5-coder:7b`)');
    expect(formatUsd(1.234)).toBe('$1.23');
    expect(formatUsd(0)).toBe('$0');
    expect(costLine({ tokens: { prompt: 1, completion: 0, total: 1, calls: 1 }, model: 'm', costUsd: 0.000_012_34 })).toBe('cost: $0.000012 (1 token in 1 model call)');
  });

  it('refers to the issue as #N, never by its address', () => {
    const body = renderPullRequestBody(content());
    expect(body).toMatch(/Closes #7$/);
    expect(body).not.toMatch(/https:\/\/github\.com\/[^)\s]+\/(issues|pull)\//);
  });

  it('says where the check run is when GitHub gave no address for it', () => {
    expect(renderPullRequestBody(content({ checkRunUrl: null }))).toContain('Every finding, with its place in the code, is in the Code4Py validation check of this commit.');
  });

  it('escapes what the model wrote, so it cannot mention people or inject HTML', () => {
    const body = renderPullRequestBody(content({ summary: 'Thanks @octocat <img src=x>', assumptions: ['[click](https://evil.example)'] }));
    expect(body).toContain('Thanks @&#8203;octocat &lt;img src=x&gt;');
    expect(body).toContain('- \\[click\\](https://evil.example)');
  });
});

describe('the validation result of a change-scoped validation', () => {
  it('says what the change did in one line each, counts only introduced findings, and reproduces with the base', () => {
    expect(renderValidationSection({ report: changeScopedReport(), package: PACKAGE, attempt: 2, checkRunUrl: 'https://github.com/octo/calc/runs/43' })).toMatchInlineSnapshot(`
      "<!-- code4py:validation -->

      ## Validation (attempt 2): ❌ failed

      - **4 tests passed** · coverage 87.5% · validated in 3.4 s
      - findings: 1 lint warning (and 2 pre-existing findings from the base branch, not counted)
      - 4 of 5 new or changed tests fail on the base branch and pass with this change
      - patch coverage 92% (23 of 25 changed lines)
      - mutation score 92% (23 of 25 mutants killed)
      - regressed: \`tests/test_calc.py::test_add\`, \`tests/test_calc.py::test_sub\`

      Every finding, with its place in the code: [the Code4Py validation check](https://github.com/octo/calc/runs/43).

      Reproduce it on a checkout of this branch: \`npx code4py@0.1.0 validate . --base b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0\`

      <details><summary>Sandbox and tool versions</summary>

      - sandbox: \`bwrap\`
      - validated by \`code4py 0.1.0\`

      </details>

      <!-- /code4py:validation -->"
    `);
  });
});

describe('the reproduce command', () => {
  it("names the package's exact version, and the base commit when the validation was change-scoped", () => {
    expect(reproduceCommand(PACKAGE, undefined)).toBe('npx code4py@0.1.0 validate .');
    expect(reproduceCommand(PACKAGE, BASE_SHA)).toBe(`npx code4py@0.1.0 validate . --base ${BASE_SHA}`);
  });
});

describe('replacing a section of the body', () => {
  it("replaces only that section's text, leaving what a person added elsewhere", () => {
    const body = `${renderPullRequestBody(content({ report: failingReport() }))}\n\nA note from a maintainer.`;
    const next = replaceBodySection(body, 'validation', renderValidationSection({ report: passingReport(), package: PACKAGE, attempt: 2 }));
    expect(next).toContain('## Validation (attempt 2): ✅ passed');
    expect(next).not.toContain('❌ failed');
    expect(next).toContain('## Summary');
    expect(next).toContain('`stats.py` (added)');
    expect(next.endsWith('Closes #7\n\nA note from a maintainer.')).toBe(true);
    expect(next.match(/<!-- code4py:validation -->/g)).toHaveLength(1);
  });

  it('appends the section to a body that lost its markers', () => {
    const section = renderValidationSection({ report: passingReport(), package: PACKAGE });
    expect(replaceBodySection('Edited by hand.\n', 'validation', section)).toBe(`Edited by hand.\n\n${section}`);
  });
});
