import { describe, expect, it } from 'vitest';
import { changeSet } from '../../../src/validate/change/change-set.js';

const file = (path: string, lines: readonly string[]) => ({ path, content: Buffer.from(`${lines.join('\n')}\n`) });
const table = (n: number, quote: string) => Array.from({ length: n }, (_, i) => `    (${i}, ${quote}V${quote}),`);

describe('the lines a change adds or modifies', () => {
  it('are the diff’s added lines', () => {
    const change = changeSet([file('a.py', ['x = 1', 'y = 2', 'z = 3'])], [file('a.py', ['x = 1', 'y = 20', 'z = 3', 'w = 4'])]);
    expect(change.modified.get('a.py')).toEqual(new Set([2, 4]));
  });

  it('are the lines the old file does not have when too many differ to diff (a regenerated table)', () => {
    const tail = ['', 'def lookup(i):', '    return TABLE[i]'];
    const before = ['TABLE = [', ...table(5000, "'"), ']', ...tail];
    const after = ['TABLE = [', ...table(5000, '"'), '    (5000, "W"),', ']', ...tail];
    const lines = changeSet([file('data.py', before)], [file('data.py', after)]).modified.get('data.py');
    expect(lines).toEqual(new Set(Array.from({ length: 5001 }, (_, i) => i + 2)));
  });
});
