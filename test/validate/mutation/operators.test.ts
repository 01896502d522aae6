import { beforeAll, describe, expect, it } from 'vitest';
import { getSandbox, type ReadySandbox } from '../../../src/sandbox/select.js';
import type { MadeMutant } from '../../../src/validate/mutation/records.js';
import { runMutants } from '../../../src/validate/mutation/run-mutants.js';
import { writeWorkspace } from '../../../src/validate/workspace.js';

let ready: ReadySandbox;
beforeAll(async () => {
  ready = await getSandbox('bwrap');
});

/** The mutants python/mutate.py makes of one file (list mode: made in the sandbox, none run). */
async function mutantsOf(source: string, lines: number[] | null = null): Promise<MadeMutant[]> {
  const ws = await writeWorkspace([{ path: 'mod.py', content: Buffer.from(source) }]);
  try {
    const run = await runMutants(ready.sandbox, ws.root, { files: [{ path: 'mod.py', lines, tests: {} }], tests: [], durations: [] }, { budgetSeconds: 20, mode: 'list' });
    expect(run.failure).toBeNull();
    return [...run.records.mutants];
  } finally {
    await ws.dispose();
  }
}

const pairs = (mutants: readonly MadeMutant[]) => mutants.map((m) => [m.operator, m.original, m.mutated]);

describe('mutation operators', () => {
  it('swaps comparisons at their boundary and to their negation', async () => {
    const mutants = await mutantsOf('def f(a, b):\n    return (a < b, a >= b, a == b, a is None, a in b)\n');
    expect(mutants.filter((m) => m.operator === 'compare').map((m) => m.mutated)).toEqual([
      'return (a <= b, a >= b, a == b, a is None, a in b)',
      'return (a < b, a > b, a == b, a is None, a in b)',
      'return (a < b, a >= b, a != b, a is None, a in b)',
      'return (a < b, a >= b, a == b, a is not None, a in b)',
      'return (a < b, a >= b, a == b, a is None, a not in b)',
    ]);
  });

  it('swaps and/or, drops `not`, and negates conditions of if, while, ternaries and comprehensions', async () => {
    const mutants = await mutantsOf(
      'def f(a, b, xs):\n    if a and b:\n        pass\n    while not a:\n        a = 1\n    y = 1 if b > a else 2\n    return [x for x in xs if x > a]\n',
    );
    const operators = pairs(mutants).filter(([op]) => op === 'boolean' || op === 'negate-condition');
    expect(operators).toEqual(
      expect.arrayContaining([
        ['negate-condition', 'if a and b:', 'if not (a and b):'],
        ['boolean', 'if a and b:', 'if a or b:'],
        ['boolean', 'while not a:', 'while a:'],
        ['negate-condition', 'y = 1 if b > a else 2', 'y = 1 if not b > a else 2'],
        ['negate-condition', 'return [x for x in xs if x > a]', 'return [x for x in xs if not x > a]'],
      ]),
    );
    // `while not a` is not negated again: dropping the `not` is that mutant already.
    expect(operators.filter(([, original]) => original === 'while not a:')).toHaveLength(1);
  });

  it('swaps arithmetic operators, in expressions and augmented assignments, but not on strings', async () => {
    const mutants = await mutantsOf('def f(a, b):\n    a += b\n    c = a * b - a // b\n    d = -a\n    return "x" + str(c % 2) + "y"\n');
    expect(mutants.filter((m) => m.operator === 'arithmetic').map((m) => m.mutated)).toEqual(['a -= b', 'c = a * b + a // b', 'c = a / b - a // b', 'c = a * b - a * b', 'd = a', 'return "x" + str(c * 2) + "y"']);
  });

  it('changes constants: numbers by one, True and False, strings, keeping the quotes as written', async () => {
    const mutants = await mutantsOf("LIMIT = 10\nRATE = 0.5\nDEBUG = True\nNAME = 'abc'\nEMPTY = \"\"\nNOTHING = None\n");
    expect(mutants.map((m) => m.mutated)).toEqual(['LIMIT = 11', 'LIMIT = 9', 'RATE = 1.5', 'DEBUG = False', "NAME = 'XXabcXX'", 'EMPTY = "XXXX"']);
    expect(new Set(mutants.map((m) => m.operator))).toEqual(new Set(['constant']));
  });

  it('returns None instead of a value, removes calls, and swaps break and continue', async () => {
    const mutants = await mutantsOf('def f(xs, out):\n    for x in xs:\n        if x:\n            break\n        continue\n    out.append(len(xs))\n    return sorted(xs)\n');
    expect(pairs(mutants)).toEqual(
      expect.arrayContaining([
        ['loop-control', 'break', 'continue'],
        ['loop-control', 'continue', 'break'],
        ['remove-call', 'out.append(len(xs))', 'pass'],
        ['return', 'return sorted(xs)', 'return None'],
      ]),
    );
  });

  it('makes no mutant in docstrings, type hints, logging calls, __repr__, __all__ or an `if __name__ == "__main__"` block', async () => {
    const source = [
      '"""Module docs: 1 < 2 and "text"."""',
      'import logging',
      'from typing import Literal',
      'log = logging.getLogger(__name__)',
      '__all__ = ["area"]',
      '',
      '',
      'def area(w: int = 1, mode: Literal["a", "b"] = "a") -> "int | None":',
      '    """Area of a rectangle, 2 * w."""',
      '    log.info("area of %s", w * 2)',
      '    logging.getLogger("x").warning("big: %d", w + 1)',
      '    size: Literal[3] = w',
      '    return size',
      '',
      '',
      'class Box:',
      '    """A box."""',
      '',
      '    def __repr__(self):',
      '        return "Box(%d)" % (1 + 2)',
      '',
      '',
      'if __name__ == "__main__":',
      '    print(area(3) > 1)',
      '',
    ].join('\n');
    const mutants = await mutantsOf(source);
    // What is left: the defaults `1` and `"a"`, and `return size`'s name is not mutable.
    expect(pairs(mutants)).toEqual([
      ['constant', 'def area(w: int = 1, mode: Literal["a", "b"] = "a") -> "int | None":', 'def area(w: int = 2, mode: Literal["a", "b"] = "a") -> "int | None":'],
      ['constant', 'def area(w: int = 1, mode: Literal["a", "b"] = "a") -> "int | None":', 'def area(w: int = 0, mode: Literal["a", "b"] = "a") -> "int | None":'],
      ['constant', 'def area(w: int = 1, mode: Literal["a", "b"] = "a") -> "int | None":', 'def area(w: int = 1, mode: Literal["a", "b"] = "XXaXX") -> "int | None":'],
      ['return', 'return size', 'return None'],
    ]);
  });

  it('leaves exception messages and lines marked `# pragma: no mutate` alone', async () => {
    const mutants = await mutantsOf('def f(n):\n    if n < 0:\n        raise ValueError("n < 0: " + str(n))\n    return n * 2  # pragma: no mutate\n');
    expect(mutants.map((m) => m.line)).toEqual([2, 2, 2, 2]);
  });

  it('mutates only the lines asked for, and says where each mutant is', async () => {
    const mutants = await mutantsOf('def f(a):\n    b = a + 1\n    return b * 2\n', [3]);
    expect(mutants.map((m) => ({ line: m.line, path: m.path }))).toEqual(Array(mutants.length).fill({ line: 3, path: 'mod.py' }));
    expect(mutants.length).toBeGreaterThan(0);
  });

  it('reports a file that does not parse instead of failing the run', async () => {
    const ws = await writeWorkspace([{ path: 'bad.py', content: Buffer.from('def f(:\n') }]);
    try {
      const run = await runMutants(ready.sandbox, ws.root, { files: [{ path: 'bad.py', lines: null, tests: {} }], tests: [], durations: [] }, { budgetSeconds: 20, mode: 'list' });
      expect(run.failure).toBeNull();
      expect(run.records.notes).toEqual([{ path: 'bad.py', message: expect.stringMatching(/^not mutated: /) }]);
    } finally {
      await ws.dispose();
    }
  });
});
