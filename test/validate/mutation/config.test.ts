import { describe, expect, it } from 'vitest';
import { parseValidationConfig } from '../../../src/config/load.js';
import { repoConfigJsonSchema } from '../../../src/config/repo-config.js';

describe('mutation config', () => {
  it('defaults to a 30 s budget, one strengthening round, no threshold and no failing', () => {
    expect(parseValidationConfig('', 'code4py.yml').mutation).toEqual({ budget_seconds: 30, rounds: 1, fail: false });
  });

  it('reads the keys of .github/code4py.yml', () => {
    const config = parseValidationConfig('mutation:\n  budget_seconds: 90\n  rounds: 0\n  min_score: 80\n  fail: true\n', 'code4py.yml');
    expect(config.mutation).toEqual({ budget_seconds: 90, rounds: 0, min_score: 80, fail: true });
  });

  it('names the key and the problem', () => {
    expect(() => parseValidationConfig('mutation:\n  min_score: 120\n  budget: 5\n', 'x.yml')).toThrow(
      /x\.yml has invalid settings:\n {2}- mutation\.min_score: Too big: expected number to be <=100\n {2}- mutation: Unrecognized key: "budget"/,
    );
    expect(() => parseValidationConfig('mutation:\n  rounds: 1.5\n', 'x.yml')).toThrow(/mutation\.rounds: Invalid input: expected int/);
  });

  it('refuses fail: true without the score it would fail below', () => {
    expect(() => parseValidationConfig('mutation:\n  fail: true\n', 'x.yml')).toThrow(/mutation\.fail: fail: true needs min_score, the score below which validation fails/);
  });

  it('describes each key for editors', () => {
    const schema = repoConfigJsonSchema() as { properties: Record<string, { description?: string; properties?: Record<string, { description?: string; default?: unknown }> }> };
    const mutation = schema.properties.mutation!;
    expect(mutation.description).toMatch(/Mutation testing/);
    expect(Object.keys(mutation.properties ?? {}).sort()).toEqual(['budget_seconds', 'fail', 'min_score', 'rounds']);
    for (const field of Object.values(mutation.properties ?? {})) expect(field.description?.length).toBeGreaterThan(20);
    expect(mutation.properties?.budget_seconds?.default).toBe(30);
  });
});
