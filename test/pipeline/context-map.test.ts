import { beforeAll, describe, expect, it } from 'vitest';
import { readRepoMap, renderModule } from '../../src/pipeline/context/repo-map.js';
import { getSandbox, type ReadySandbox } from '../../src/sandbox/select.js';

let ready: ReadySandbox;
beforeAll(async () => {
  ready = await getSandbox('bwrap');
});

const file = (path: string, text: string) => ({ path, content: Buffer.from(text) });

describe('the repository map (Python parser in the sandbox)', () => {
  it('lists each module with its functions, classes, methods, signatures and first docstring lines', async () => {
    const map = await readRepoMap(ready.sandbox, [
      file(
        'shop/cart.py',
        [
          '"""Shopping cart.\n\nMore text."""',
          'import json',
          'TAX = 0.2',
          'def total(items: list[float], *, tax: float = TAX) -> float:',
          '    """Sum the items with tax.\n\n    Details."""',
          '    def inner(): pass',
          '    return sum(items) * (1 + tax)',
          'async def fetch(url):',
          '    pass',
          'class Cart(Base, metaclass=Meta):',
          '    """A cart."""',
          '    def add(self, item: str) -> None:',
          '        """Add one item."""',
          '    async def save(self): pass',
          '    class Nested:',
          '        def deep(self): pass',
          '',
        ].join('\n'),
      ),
      file('README.md', '# not Python'),
    ]);
    expect(map.problem).toBeUndefined();
    expect(map.modules).toHaveLength(1);
    expect(renderModule(map.modules[0]!)).toBe(
      [
        'shop/cart.py  # Shopping cart.',
        '  def total(items: list[float], *, tax: float=TAX) -> float  # Sum the items with tax.',
        '  async def fetch(url)',
        '  class Cart(Base, metaclass=Meta)  # A cart.',
        '    def add(self, item: str) -> None  # Add one item.',
        '    async def save(self)',
      ].join('\n'),
    );
  });

  it('lists a file with a syntax error without symbols, and still maps the others', async () => {
    const map = await readRepoMap(ready.sandbox, [file('b/broken.py', 'def broken(:\n    pass\n'), file('a/ok.py', 'def fine():\n    pass\n')]);
    expect(map.modules.map((m) => m.path)).toEqual(['a/ok.py', 'b/broken.py']);
    expect(map.modules[1]).toMatchObject({ path: 'b/broken.py', symbols: [], error: expect.stringMatching(/^line 1: /) });
    expect(renderModule(map.modules[1]!)).toMatch(/^b\/broken\.py {2}\(does not parse: line 1: /);
    expect(map.modules[0]!.symbols.map((s) => s.name)).toEqual(['fine']);
  });

  it('keeps odd paths and encodings apart: a newline in a name, a Latin-1 file with its coding line, an empty file', async () => {
    const latin1 = Buffer.from('# -*- coding: latin-1 -*-\ndef caf\u00e9():\n    """\u00e9t\u00e9"""\n', 'latin1');
    const map = await readRepoMap(ready.sandbox, [file('odd\nname.py', 'def odd(): pass\n'), { path: 'latin.py', content: latin1 }, file('empty.py', '')]);
    expect(map.modules.map((m) => [m.path, m.symbols.map((s) => s.name)])).toEqual([
      ['empty.py', []],
      ['latin.py', ['caf\u00e9']],
      ['odd\nname.py', ['odd']],
    ]);
  });

  it('parses 2,000 modules in one sandbox run', async () => {
    const files = Array.from({ length: 2000 }, (_, i) => file(`pkg${i % 20}/mod_${i}.py`, `def f_${i}(x):\n    """Doc ${i}."""\n    return x\n`));
    const map = await readRepoMap(ready.sandbox, files);
    expect(map.problem).toBeUndefined();
    expect(map.modules).toHaveLength(2000);
    expect(map.modules.every((m) => m.symbols.length === 1 && m.symbols[0]!.name === `f_${m.path.match(/mod_(\d+)/)![1]}`)).toBe(true);
  });
});
