import { describe, expect, it } from 'vitest';
import { analysisMessages, solutionMessages } from '../../src/llm/prompts/messages.js';
import { ANALYSIS_SYSTEM_PROMPT, SOLUTION_SYSTEM_PROMPT } from '../../src/llm/prompts/system.js';
import { PROMPT_VERSION } from '../../src/llm/prompts/version.js';
import { INTENTS } from '../../src/llm/schemas.js';
import { DataFence } from '../../src/llm/untrusted.js';
import { analysisInput, solutionInput } from './helpers.js';

describe('prompts', () => {
  it('carry a dated version', () => {
    expect(PROMPT_VERSION).toMatch(/^\d{4}-\d{2}-\d{2}\.\d+$/);
  });

  it('show examples for every intent and state the protocol', () => {
    for (const intent of INTENTS) {
      expect(ANALYSIS_SYSTEM_PROMPT).toMatch(new RegExp(`^- ${intent}: "[^"]+" → [a-z_0-9]+; "`, 'm'));
      expect(SOLUTION_SYSTEM_PROMPT).toMatch(new RegExp(`^- ${intent}: \\S`, 'm'));
    }
    expect(SOLUTION_SYSTEM_PROMPT).toContain('pytest and its discovery rules');
    expect(SOLUTION_SYSTEM_PROMPT).toContain('no network');
    expect(SOLUTION_SYSTEM_PROMPT).toContain('dependencies: requirement specifiers');
  });

  it('keep the system message the same for every request, so servers can cache it', () => {
    const a = analysisMessages(analysisInput('one'), new DataFence('aaaa'));
    const b = analysisMessages(analysisInput('two'), new DataFence('bbbb'));
    expect(a[0]).toEqual(b[0]);
    expect(solutionMessages(solutionInput(), new DataFence('aaaa'))[0]!.content).toBe(SOLUTION_SYSTEM_PROMPT);
    expect(a[1]!.content).toContain('<<<ISSUE-aaaa\n');
  });

  it('clip long failure output and say how much was left out', () => {
    const failingTests = Array.from({ length: 25 }, (_, i) => ({ id: `tests/test_x.py::test_${i}`, outcome: 'failed' as const, message: 'x'.repeat(5_000) }));
    const [, user] = solutionMessages(
      solutionInput({ repair: { previous: [], failures: { summaries: ['tests: 25 failed'], failingTests, findings: [] } } }),
      new DataFence('n0nce'),
    );
    const text = user!.content as string;
    expect(text).toContain('test_19 (failed)');
    expect(text).not.toContain('test_20 (failed)');
    expect(text).toContain('… (cut)');
    expect(text).toContain('(5 more not shown)');
  });
});
