import { afterAll, describe, expect, it } from 'vitest';
import { covers, foldSelections, type Selection } from '../../../src/validate/ruff/combine.js';
import { RuffHost } from '../../../src/validate/ruff/ruff-host.js';

const layer = (select: string[] | undefined, extendSelect: string[] = [], ignore: string[] = []): Selection => ({ ...(select ? { select } : {}), extendSelect, ignore });

const ruff = RuffHost.start({ worker: null });
afterAll(() => ruff.close());

/** The rules Ruff reports on `text` with one folded selection. */
async function reported(selection: Selection, text: string): Promise<string[]> {
  const lint = { ...(selection.select ? { select: selection.select } : {}), 'extend-select': selection.extendSelect, ignore: selection.ignore };
  const response = await ruff.lint({ files: [{ path: 'a.py', text }], passes: [{ options: { 'line-length': 20, lint }, paths: ['a.py'], format: false }] });
  const [pass] = response.passes;
  if (!pass?.ok) throw new Error(`Ruff refused ${JSON.stringify(lint)}`);
  return [...new Set(pass.files[0]?.diagnostics.map((d) => d.code ?? ''))].sort();
}

// E501 (line too long), E702 (statements joined by a semicolon), F401 (unused import), W291 (trailing whitespace).
const TEXT = 'import os\nx = 1; y = "a long string here"  \n';

describe('folding the rule selections of a configuration chain into one', () => {
  it('lets a later ignore turn off a rule an earlier file selected by its exact code, as Ruff layers them', async () => {
    const folded = foldSelections([layer(['E501', 'F']), layer(undefined, [], ['E'])]);
    expect(folded).toEqual({ select: ['E501', 'F'], extendSelect: [], ignore: ['E', 'E501'] });
    expect(await reported(folded, TEXT)).toEqual(['F401']);
  });

  it('lets a later extend-select turn on a rule an earlier file ignored', async () => {
    const folded = foldSelections([layer(['E', 'F'], [], ['E501']), layer(undefined, ['E5'])]);
    expect(folded.ignore).toEqual([]);
    expect(await reported(folded, TEXT)).toEqual(['E501', 'E702', 'F401']);
  });

  it('starts afresh at a file with its own select', async () => {
    const folded = foldSelections([layer(['E'], ['W'], ['E702']), layer(['F'])]);
    expect(folded).toEqual({ select: ['F'], extendSelect: [], ignore: [] });
    expect(await reported(folded, TEXT)).toEqual(['F401']);
  });

  it('keeps the more specific selector winning within one file', async () => {
    expect(await reported(foldSelections([layer(['E'], [], ['E501'])]), TEXT)).toEqual(['E702']);
    expect(await reported(foldSelections([layer(['E501'], [], ['E'])]), TEXT)).toEqual(['E501']);
  });

  it("carries the ignores of a `select = []` file over to the next, as Ruff's carry-over does", () => {
    expect(foldSelections([layer([], [], ['W291']), layer(['W'])])).toEqual({ select: ['W'], extendSelect: [], ignore: ['W291'] });
  });
});

describe('covers', () => {
  it('compares rule selectors by linter and code prefix, not by text', () => {
    expect(covers('E', 'E501')).toBe(true);
    expect(covers('E5', 'E501')).toBe(true);
    expect(covers('E501', 'E')).toBe(false);
    expect(covers('E', 'ERA001')).toBe(false);
    expect(covers('PT', 'PTH100')).toBe(false);
    expect(covers('S', 'SIM108')).toBe(false);
    expect(covers('C', 'C901')).toBe(true);
    expect(covers('PL', 'PLR0913')).toBe(true);
    expect(covers('ALL', 'RUF100')).toBe(true);
  });
});
