import { describe, expect, it } from 'vitest';
import { renderClarification, renderRefineReply } from '../../src/render/comments.js';
import { failingReport, passingReport } from '../fixtures/reports.js';

describe('the clarifying comment', () => {
  it('numbers the questions and lists the assumptions `generate` would go ahead with', () => {
    expect(renderClarification({ questions: ['Words or lines?', 'Is the input a file?'], assumptions: ['words are separated by whitespace', 'the input is one string'], command: '/code4py' })).toMatchInlineSnapshot(`
      "❓ Code4Py needs to know more before it writes code:

      1. Words or lines?
      2. Is the input a file?

      Answer in a comment and Code4Py goes on with your answer, or comment \`/code4py generate\` to go ahead now with these assumptions:

      - words are separated by whitespace
      - the input is one string"
    `);
  });

  it('says what going ahead means when the model made no assumption', () => {
    expect(renderClarification({ questions: ['Which format?'], assumptions: [], command: '/bot' })).toContain('comment `/bot generate` to go ahead now with its own reading of the issue.');
  });

  it('escapes what the model wrote', () => {
    expect(renderClarification({ questions: ['Ask @octocat?'], assumptions: ['<b>bold</b>'], command: '/code4py' })).toMatch(/1\. Ask @&#8203;octocat\?[\s\S]*- &lt;b&gt;bold&lt;\/b&gt;/);
  });
});

describe('the reply to a refinement', () => {
  it("quotes the feedback and says what this commit changed for it, with the new commit's validation in one line", () => {
    const reply = renderRefineReply({
      commit: 'abcdef0123456789abcdef0123456789abcdef01',
      sender: 'alice',
      feedback: 'add a test with tabs\nand maybe newlines',
      summary: 'Adds test_tabs: a tab separates words.',
      files: ['test_words.py'],
      report: passingReport(),
      checkRunUrl: 'https://github.com/octo/calc/runs/9',
    });
    expect(reply).toMatchInlineSnapshot(`
      "🔁 Code4Py pushed abcdef0 for @alice:

      > add a test with tabs …

      **What changed:** Adds test\\_tabs: a tab separates words.

      **Files:** \`test_words.py\`

      ✅ Validation passed: 4 tests passed · coverage 87.5% ([details](https://github.com/octo/calc/runs/9)). The pull request's description shows this commit's validation."
    `);
  });

  it('says so when the validation failed, and links nothing when GitHub gave no address', () => {
    const reply = renderRefineReply({ commit: 'abcdef0', sender: 'bob', feedback: '', summary: 's', files: [], report: failingReport(), checkRunUrl: null });
    expect(reply).toContain('❌ Validation failed: 3 tests passed, 1 failed · coverage 87.5% · 1 security error, 1 lint warning. ');
    expect(reply).not.toContain('](');
    expect(reply).not.toContain('> ');
  });
});
