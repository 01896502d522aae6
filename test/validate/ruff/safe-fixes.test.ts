import { afterAll, describe, expect, it } from 'vitest';
import { RuffHost } from '../../../src/validate/ruff/ruff-host.js';
import type { RuffDiagnostic } from '../../../src/validate/ruff/ruff-protocol.js';
import { applySafeFixes, type FixContext } from '../../../src/validate/ruff/safe-fixes.js';

const ruff = RuffHost.start({ worker: null });
afterAll(() => ruff.close());

/** Ruff's diagnostics, with their fixes, for one text. */
async function diagnose(text: string, select: string[], target = 'py311'): Promise<RuffDiagnostic[]> {
  const response = await ruff.lint({ files: [{ path: 'm.py', text }], passes: [{ options: { 'target-version': target, lint: { select } }, paths: ['m.py'], format: false }] });
  const [pass] = response.passes;
  if (!pass?.ok) throw new Error('Ruff refused the options');
  return pass.files[0]?.diagnostics ?? [];
}

const context = (overrides: Partial<FixContext> = {}): FixContext => ({ path: 'pkg/mod.py', targetVersion: 'py311', preview: false, ...overrides });

async function fixed(text: string, select: string[], ctx = context()): Promise<{ text: string; applied: readonly string[] }> {
  return applySafeFixes(text, await diagnose(text, select, ctx.targetVersion), ctx);
}

describe("applying Ruff's safe fixes", () => {
  it('removes unused imports and sorts the rest, leaving the code otherwise as it was', async () => {
    const result = await fixed('import sys\nimport os\nimport json\n\nprint(json.dumps(os.sep))\n', ['F401', 'I001']);
    // Both fixes touch the import block: the first applies, the caller checks again for the second.
    expect(result.applied).toEqual(['F401']);
    const second = await fixed(result.text, ['F401', 'I001']);
    expect(second.text).toBe('import json\nimport os\n\nprint(json.dumps(os.sep))\n');
  });

  it('does not remove an unused import from __init__.py, where it may be the public interface', async () => {
    const text = 'from .core import helper\n';
    expect((await fixed(text, ['F401'], context({ path: 'pkg/__init__.py' }))).applied).toEqual([]);
  });

  it('leaves fixes Ruff marks unsafe: == None to is None may change what an overloaded __eq__ does', async () => {
    const text = 'def empty(x):\n    return x == None\n';
    const diagnostics = await diagnose(text, ['E711']);
    expect(diagnostics.map((d) => [d.code, d.fix === null || d.fix === undefined])).toEqual([['E711', false]]);
    expect(applySafeFixes(text, diagnostics, context())).toEqual({ text, applied: [] });
  });

  it('modernises annotations only where Ruff calls it safe: Python 3.10 and later', async () => {
    const text = 'from typing import List, Optional\n\n\ndef first(xs: List[int]) -> Optional[int]:\n    return xs[0] if xs else None\n';
    expect((await fixed(text, ['UP006', 'UP045'], context({ targetVersion: 'py39' }))).applied).toEqual([]);
    const modern = await fixed(text, ['UP006', 'UP045'], context({ targetVersion: 'py312' }));
    expect(modern.applied).toEqual(['UP006', 'UP045']);
    expect(modern.text).toContain('def first(xs: list[int]) -> int | None:');
  });

  it('leaves a conditionally safe fix that would delete a comment', async () => {
    const text = 'class Point(  # the base is spelled out on purpose\n    object\n):\n    pass\n';
    const diagnostics = await diagnose(text, ['UP004']);
    expect(diagnostics.map((d) => d.code)).toEqual(['UP004']);
    expect(applySafeFixes(text, diagnostics, context()).applied).toEqual([]);
    expect((await fixed('class Point(object):\n    pass\n', ['UP004'])).text).toBe('class Point:\n    pass\n');
  });

  it('applies only the first fix when asked to, for fixes that broke the code together', async () => {
    // Ruff keeps such fixes apart with isolation groups, which its WebAssembly build does not expose.
    const text = 'if True:\n    import os\n\n    import sys\n';
    const diagnostics = await diagnose(text, ['F401']);
    expect(applySafeFixes(text, diagnostics, context())).toEqual({ text: 'if True:\n\n', applied: ['F401', 'F401'] });
    expect(applySafeFixes(text, diagnostics, context(), 1)).toEqual({ text: 'if True:\n\n    import sys\n', applied: ['F401'] });
  });

  it('counts columns in UTF-16 units, as JavaScript strings do', async () => {
    const text = 'import os\nGREETING = "héllo 🌍"; x = f"{GREETING}"  \nprint(f"done")\n';
    const result = await fixed(text, ['F401', 'F541', 'E703']);
    expect(result.text).toBe('GREETING = "héllo 🌍"; x = f"{GREETING}"  \nprint("done")\n');
  });
});
