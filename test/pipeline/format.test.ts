import { afterAll, describe, expect, it } from 'vitest';
import { ValidationConfigSchema, type ValidationConfig } from '../../src/config/schema.js';
import type { SolutionFile } from '../../src/llm/index.js';
import { formatGenerated } from '../../src/pipeline/generate/format.js';
import { RuffHost } from '../../src/validate/ruff/ruff-host.js';
import type { RuffRequest, RuffResponse } from '../../src/validate/ruff/ruff-protocol.js';
import { runRuffStages } from '../../src/validate/stages/lint.js';

const ruff = RuffHost.start({ worker: null });
afterAll(() => ruff.close());

const config = (overrides: Record<string, unknown> = {}): ValidationConfig => ValidationConfigSchema.parse(overrides);
const generated = (files: Record<string, string | null>): SolutionFile[] => Object.entries(files).map(([path, content]) => ({ path, content, patch: null }));
const repository = (files: Record<string, string> = {}): Map<string, Buffer> => new Map(Object.entries(files).map(([path, text]) => [path, Buffer.from(text)]));
const contentOf = (files: readonly SolutionFile[], path: string): string | null | undefined => files.find((f) => f.path === path)?.content;

/** What the model might write: unformatted, an unused import, an unsorted import block, old-style annotations. */
const MODEL_CODE = [
  'import sys',
  'from typing import List, Optional',
  'import os',
  'def median(values: List[float]) -> Optional[float]:',
  '    if not values: return None',
  "    ordered=sorted(values); n=len(ordered)",
  "    middle = n//2",
  '    return ordered[middle] if n%2 else (ordered[middle-1]+ordered[middle])/2',
  'def path_of(name): return os.path.join("data", f"{name}.csv")',
  '',
].join('\n');
const MODEL_TEST = "from stats.median import median\nimport pytest\ndef test_odd():\n    assert median([3,1,2])==2\ndef test_empty():\n    assert median([]) is None\n";

describe('formatting and fixing generated Python', () => {
  it('leaves no "would reformat" and no safe fix for the lint stage, with the default settings', async () => {
    const files = generated({ 'stats/median.py': MODEL_CODE, 'tests/test_median.py': MODEL_TEST, 'requirements.txt': 'pytest\n' });
    const out = await formatGenerated(files, repository(), config(), ruff);
    expect(contentOf(out, 'stats/median.py')).toBe(
      [
        'import os',
        '',
        '',
        'def median(values: list[float]) -> float | None:',
        '    if not values:',
        '        return None',
        '    ordered = sorted(values)',
        '    n = len(ordered)',
        '    middle = n // 2',
        '    return ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2',
        '',
        '',
        'def path_of(name):',
        '    return os.path.join("data", f"{name}.csv")',
        '',
      ].join('\n'),
    );
    // pytest is imported but unused: removing it is safe, as Ruff's own --fix would.
    expect(contentOf(out, 'tests/test_median.py')).toBe('from stats.median import median\n\n\ndef test_odd():\n    assert median([3, 1, 2]) == 2\n\n\ndef test_empty():\n    assert median([]) is None\n');
    expect(contentOf(out, 'requirements.txt')).toBe('pytest\n');
    const { lint } = await runRuffStages(out.map((f) => ({ path: f.path, text: f.content, bytes: 0 })), ruff, config());
    expect(lint.findings).toEqual([]);
  });

  it("uses the repository's Ruff settings: its line length, quote style, rules and target version", async () => {
    const pyproject = [
      '[project]',
      'requires-python = ">=3.9"',
      '[tool.ruff]',
      'line-length = 120',
      '[tool.ruff.lint]',
      'select = ["F", "I"]',
      '[tool.ruff.format]',
      'quote-style = "single"',
    ].join('\n');
    const out = await formatGenerated(generated({ 'stats/median.py': MODEL_CODE }), repository({ 'pyproject.toml': pyproject }), config(), ruff);
    const text = contentOf(out, 'stats/median.py') ?? '';
    expect(text).toContain("def path_of(name):\n    return os.path.join('data', f'{name}.csv')\n");
    // Python 3.9 and no UP rules selected: the annotations stay as they were; the unused import goes.
    expect(text).toContain('from typing import List, Optional\n');
    expect(text).toContain('def median(values: List[float]) -> Optional[float]:');
    expect(text).not.toContain('import sys');
    const { lint } = await runRuffStages(
      [...out.map((f) => ({ path: f.path, text: f.content, bytes: 0 })), { path: 'pyproject.toml', text: pyproject, bytes: 0 }],
      ruff,
      config(),
    );
    expect(lint.findings).toEqual([]);
  });

  it('reaches a fixed point: a second pass changes nothing', async () => {
    const once = await formatGenerated(generated({ 'stats/median.py': MODEL_CODE, 'tests/test_median.py': MODEL_TEST }), repository(), config(), ruff);
    const twice = await formatGenerated(once, repository(), config(), ruff);
    expect(twice).toEqual(once);
  });

  it('leaves a file that does not parse as the model wrote it, and formats the others', async () => {
    const out = await formatGenerated(generated({ 'broken.py': 'def f(:\n  return 1\n', 'ok.py': 'x=1\n' }), repository(), config(), ruff);
    expect(contentOf(out, 'broken.py')).toBe('def f(:\n  return 1\n');
    expect(contentOf(out, 'ok.py')).toBe('x = 1\n');
  });

  it('undoes fixes that broke the code together and applies them one at a time', async () => {
    const out = await formatGenerated(generated({ 'guard.py': 'import json\nif True:\n    import os\n\n    import sys\nprint(json.dumps(1))\n' }), repository(), config(), ruff);
    expect(contentOf(out, 'guard.py')).toBe('import json\n\nif True:\n    pass\nprint(json.dumps(1))\n');
  });

  it("leaves alone what the repository's settings exclude, and formatting when lint.format is false", async () => {
    const repo = repository({ 'ruff.toml': 'extend-exclude = ["vendor"]\n' });
    const out = await formatGenerated(generated({ 'vendor/lib.py': 'import os\nx=1\n', 'app.py': 'import os\nx=1\n' }), repo, config(), ruff);
    expect(contentOf(out, 'vendor/lib.py')).toBe('import os\nx=1\n');
    expect(contentOf(out, 'app.py')).toBe('x = 1\n');
    const unformatted = await formatGenerated(generated({ 'app.py': 'import os\nx=1\n' }), repository(), config({ lint: { format: false } }), ruff);
    expect(contentOf(unformatted, 'app.py')).toBe('x=1\n');
  });

  it('tidies a file of the repository only when Ruff leaves its base version as it is, so its own code is not rewritten', async () => {
    const clean = 'def add(a, b):\n    return a + b\n';
    const messy = 'def add(a,b):\n    return a+b\n';
    const change = (base: string): string => `${base}\ndef sub(a,b):\n    return a-b\n`;
    const out = await formatGenerated(generated({ 'clean.py': change(clean), 'messy.py': change(messy) }), repository({ 'clean.py': clean, 'messy.py': messy }), config(), ruff);
    expect(contentOf(out, 'clean.py')).toBe('def add(a, b):\n    return a + b\n\n\ndef sub(a, b):\n    return a - b\n');
    expect(contentOf(out, 'messy.py')).toBe(change(messy));
  });

  it('changes nothing when the repository’s Ruff settings cannot be read, or Ruff fails', async () => {
    const files = generated({ 'app.py': 'import os\nx=1\n' });
    expect(await formatGenerated(files, repository({ 'ruff.toml': 'line-length = \n' }), config(), ruff)).toEqual(files);
    const failing = { lint: (_: RuffRequest): Promise<RuffResponse> => Promise.reject(new Error("Ruff's worker crashed")) };
    expect(await formatGenerated(files, repository(), config(), failing)).toEqual(files);
  });
});
