import type { InputFile } from '../src/validate/workspace.js';

/**
 * A generated project shaped like a real library's suite: a package of `modules` modules, each with a few
 * functions (arithmetic, branches, a loop), and `tests` pytest tests spread over one test file per module,
 * half of them parametrised. Deterministic, so every run measures the same code.
 */
export function generatedSuite(modules: number, tests: number): InputFile[] {
  const files: Array<{ path: string; text: string }> = [
    { path: 'pyproject.toml', text: '[project]\nname = "benchpkg"\nversion = "1.0"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n' },
    { path: 'benchpkg/__init__.py', text: '' },
    { path: 'tests/__init__.py', text: '' },
  ];
  const perModule = Math.ceil(tests / modules);
  for (let m = 0; m < modules; m++) {
    files.push({ path: `benchpkg/mod${m}.py`, text: moduleText(m) });
    const count = Math.min(perModule, tests - m * perModule);
    if (count > 0) files.push({ path: `tests/test_mod${m}.py`, text: testText(m, count) });
  }
  return files.map((f) => ({ path: f.path, content: Buffer.from(f.text) }));
}

function moduleText(m: number): string {
  return [
    `"""Module ${m} of the bench package."""`,
    '',
    '',
    'def scale(value: int, factor: int) -> int:',
    `    return value * factor + ${m}`,
    '',
    '',
    'def clamp(value: int, low: int, high: int) -> int:',
    '    if value < low:',
    '        return low',
    '    if value > high:',
    '        return high',
    '    return value',
    '',
    '',
    'def total(values: list[int]) -> int:',
    '    result = 0',
    '    for value in values:',
    '        result += value',
    '    return result',
    '',
  ].join('\n');
}

function testText(m: number, count: number): string {
  const lines = ['import pytest', '', `from benchpkg.mod${m} import clamp, scale, total`, ''];
  const plain = Math.floor(count / 2);
  for (let t = 0; t < plain; t++) {
    lines.push('', `def test_scale_${t}():`, `    assert scale(${t}, 2) == ${t * 2 + m}`, '');
  }
  const cases = count - plain;
  if (cases > 0) {
    const params = Array.from({ length: cases }, (_, i) => `(${i - 5}, ${Math.min(Math.max(i - 5, 0), 10)})`).join(', ');
    lines.push('', `@pytest.mark.parametrize(("value", "expected"), [${params}])`, 'def test_clamp(value, expected):', '    assert clamp(value, 0, 10) == expected', '    assert total([value, expected]) == value + expected', '');
  }
  return `${lines.join('\n')}\n`;
}

/** A change to one module of the suite: a new function and a test of it, as a bot's task would make. */
export function suiteChange(files: readonly InputFile[]): InputFile[] {
  const changed = files.map((f) =>
    f.path === 'benchpkg/mod0.py' ? { path: f.path, content: Buffer.from(`${f.content.toString()}\n\ndef double(value: int) -> int:\n    return 2 * value\n`) } : f,
  );
  return [...changed, { path: 'tests/test_double.py', content: Buffer.from('from benchpkg.mod0 import double\n\n\ndef test_double():\n    assert double(21) == 42\n') }];
}
