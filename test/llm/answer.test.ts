import { describe, expect, it } from 'vitest';
import { extractJson, parseAnswer } from '../../src/llm/answer.js';
import { AnalysisSchema } from '../../src/llm/schemas.js';
import { ANALYSIS } from './helpers.js';

describe('extractJson', () => {
  it('reads a bare JSON object, or the last parsable ```json block among prose', () => {
    expect(extractJson(' {"a": 1} ')).toEqual({ a: 1 });
    expect(extractJson('Plan:\n```json\n{"a": 1}\n```\nOn second thought:\n```JSON\n{"a": 2}\n```\nDone.')).toEqual({ a: 2 });
    expect(extractJson('```json\n{"a": 1}\n```\nbroken retry:\n```json\n{"a": \n```')).toEqual({ a: 1 });
  });

  it('tolerates a missing closing fence, an untagged fence, and bare braces in prose', () => {
    expect(extractJson('Answer:\n```json\n{"a": "x```y"}\n')).toEqual({ a: 'x```y' });
    expect(extractJson('```\n{"b": true}\n```')).toEqual({ b: true });
    expect(extractJson('The answer is {"c": [1, 2]} as requested.')).toEqual({ c: [1, 2] });
  });

  it('finds nothing in prose, scalars or broken JSON', () => {
    expect(extractJson('no json here')).toBeUndefined();
    expect(extractJson('42')).toBeUndefined();
    expect(extractJson('```json\n{"a": \n```')).toBeUndefined();
  });
});

describe('parseAnswer', () => {
  const answer = (content: string, finishReason: string | null = 'stop', refusal: string | null = null) => ({ content, finishReason, refusal });

  it('reports a truncated answer even when its beginning parses', () => {
    expect(parseAnswer(AnalysisSchema, answer(JSON.stringify(ANALYSIS), 'length'), false)).toEqual({
      ok: false,
      problems: ['the answer was cut off at the length limit before the JSON object was complete'],
    });
  });

  it('reports a refusal without quoting it', () => {
    expect(parseAnswer(AnalysisSchema, answer('', 'stop', 'I cannot help with that'), false)).toEqual({ ok: false, problems: ['the answer was a refusal instead of the JSON object'] });
  });

  it('lists every schema problem by key', () => {
    const parsed = parseAnswer(AnalysisSchema, answer(JSON.stringify({ ...ANALYSIS, title: '', requirements: 'all' })), false);
    expect(parsed).toEqual({ ok: false, problems: ['title: title must not be empty', 'requirements: Invalid input: expected array, received string'] });
  });
});
