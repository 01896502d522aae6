import { describe, expect, it } from 'vitest';
import { ANALYSIS_JSON_SCHEMA, AnalysisSchema, SOLUTION_JSON_SCHEMA, SolutionSchema } from '../../src/llm/schemas.js';
import { ANALYSIS, SOLUTION } from './helpers.js';

type JsonSchema = { type?: unknown; properties?: Record<string, JsonSchema>; required?: readonly string[]; additionalProperties?: unknown; items?: JsonSchema };

/** OpenAI's strict mode: every object closed and every property required. */
function strictViolations(schema: JsonSchema, at = '$'): string[] {
  const out: string[] = [];
  if (schema.type === 'object') {
    const keys = Object.keys(schema.properties ?? {});
    if (schema.additionalProperties !== false) out.push(`${at}: additionalProperties must be false`);
    if (JSON.stringify([...(schema.required ?? [])].sort()) !== JSON.stringify([...keys].sort())) out.push(`${at}: every property must be required`);
    for (const key of keys) out.push(...strictViolations(schema.properties![key]!, `${at}.${key}`));
  }
  if (schema.items) out.push(...strictViolations(schema.items, `${at}[]`));
  return out;
}

describe('answer schemas', () => {
  it('sends JSON Schemas valid for OpenAI strict mode', () => {
    expect(strictViolations(ANALYSIS_JSON_SCHEMA as JsonSchema)).toEqual([]);
    expect(strictViolations(SOLUTION_JSON_SCHEMA as JsonSchema)).toEqual([]);
    expect(SOLUTION_JSON_SCHEMA.properties.files.items.properties.content.type).toEqual(['string', 'null']);
    expect(SOLUTION_JSON_SCHEMA.properties.files.items.properties.patch.type).toEqual(['string', 'null']);
  });

  it('names the same keys in the JSON Schemas as in the zod schemas', () => {
    expect(Object.keys(ANALYSIS_JSON_SCHEMA.properties).sort()).toEqual(Object.keys(AnalysisSchema.shape).sort());
    expect(Object.keys(SOLUTION_JSON_SCHEMA.properties).sort()).toEqual(Object.keys(SolutionSchema.shape).sort());
    expect(Object.keys(SOLUTION_JSON_SCHEMA.properties.files.items.properties).sort()).toEqual(Object.keys(SOLUTION.files[0]!).sort());
  });

  it('accepts the protocol examples', () => {
    expect(AnalysisSchema.parse(ANALYSIS)).toEqual(ANALYSIS);
    expect(SolutionSchema.parse(SOLUTION)).toEqual(SOLUTION);
    expect(SolutionSchema.parse({ ...SOLUTION, files: [{ path: 'a.py', content: null, patch: '--- a/a.py\n+++ b/a.py\n' }] }).files[0]!.patch).toContain('+++');
  });

  it('normalises module names rather than asking again', () => {
    expect(AnalysisSchema.parse({ ...ANALYSIS, module: 'Word-Count.py' }).module).toBe('word_count');
    expect(AnalysisSchema.parse({ ...ANALYSIS, module: '2048 game' }).module).toBe('_2048_game');
    expect(AnalysisSchema.safeParse({ ...ANALYSIS, module: '---' }).success).toBe(false);
  });

  it('rejects a file with both or neither of content and patch, an empty path, no files, or questions missing', () => {
    const file = (f: object) => SolutionSchema.safeParse({ ...SOLUTION, files: [{ path: 'a.py', content: null, patch: null, ...f }] }).success;
    expect(file({ content: 'x', patch: 'y' })).toBe(false);
    expect(file({})).toBe(false);
    expect(file({ path: '  ', content: 'x' })).toBe(false);
    expect(SolutionSchema.safeParse({ ...SOLUTION, files: [] }).success).toBe(false);
    expect(AnalysisSchema.safeParse({ ...ANALYSIS, needs_clarification: true, questions: [] }).success).toBe(false);
    expect(AnalysisSchema.safeParse({ ...ANALYSIS, intent: 'poetry' }).success).toBe(false);
  });
});
