import { describe, expect, it } from 'vitest';
import { isTestFile } from '../../src/validate/source.js';
import { testFileRule } from '../../src/validate/test-files.js';

const files = (entries: Record<string, string>) => Object.entries(entries).map(([path, text]) => ({ path, text }));

describe("which files are tests: pytest's names and the project's python_files", () => {
  it("takes pytest's default names alone without settings", () => {
    const rule = testFileRule(files({ 'calc.py': '', 'test_calc.py': '' }));
    expect(rule.patterns).toEqual([]);
    expect(isTestFile('test_calc.py', rule)).toBe(true);
    expect(isTestFile('test.py', rule)).toBe(false);
    expect(isTestFile('app/tests.py', rule)).toBe(false);
  });

  it('reads python_files from pyproject.toml, as a string or a list', () => {
    expect(testFileRule(files({ 'pyproject.toml': '[tool.pytest.ini_options]\npython_files = "test.py"\n' })).patterns).toEqual(['test.py']);
    const rule = testFileRule(files({ 'pyproject.toml': '[tool.pytest.ini_options]\npython_files = ["tests.py", "check_*.py"]\n' }));
    expect(isTestFile('shop/tests.py', rule)).toBe(true);
    expect(isTestFile('check_prices.py', rule)).toBe(true);
    expect(isTestFile('shop/models.py', rule)).toBe(false);
    expect(isTestFile('tests.txt', rule)).toBe(false);
  });

  it('reads pytest.ini, tox.ini and setup.cfg, with values continued on indented lines', () => {
    expect(testFileRule(files({ 'pytest.ini': '[pytest]\npython_files =\n    tests.py\n    test_*.py\naddopts = -q\n' })).patterns).toEqual(['tests.py', 'test_*.py']);
    expect(testFileRule(files({ 'tox.ini': '[tox]\nenvlist = py3\n\n[pytest]\n# Django\npython_files = tests.py\n' })).patterns).toEqual(['tests.py']);
    expect(testFileRule(files({ 'setup.cfg': '[metadata]\nname = x\n\n[tool:pytest]\npython_files = *_spec.py\n' })).patterns).toEqual(['*_spec.py']);
  });

  it('takes the first file that configures pytest, as pytest does', () => {
    const both = { 'pytest.ini': '[pytest]\naddopts = -q\n', 'tox.ini': '[pytest]\npython_files = tests.py\n' };
    expect(testFileRule(files(both)).patterns).toEqual([]);
    const later = { 'pyproject.toml': '[project]\nname = "x"\n', 'tox.ini': '[pytest]\npython_files = tests.py\n' };
    expect(testFileRule(files(later)).patterns).toEqual(['tests.py']);
  });

  it('matches a glob with a slash against the path', () => {
    const rule = testFileRule(files({ 'pytest.ini': '[pytest]\npython_files = checks/*.py\n' }));
    expect(isTestFile('checks/prices.py', rule)).toBe(true);
    expect(isTestFile('shop/prices.py', rule)).toBe(false);
  });

  it('reads files given as bytes too (a tree read from git)', () => {
    expect(testFileRule([{ path: 'setup.cfg', content: Buffer.from('[tool:pytest]\npython_files = test.py\n') }]).patterns).toEqual(['test.py']);
  });
});
