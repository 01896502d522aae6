import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { afterAll, describe, expect, it } from 'vitest';
import { ValidationConfigSchema, type ValidationConfig } from '../../src/config/schema.js';
import { RUFF_DEFAULT_TARGET } from '../../src/validate/ruff/defaults.js';
import { RuffHost } from '../../src/validate/ruff/ruff-host.js';
import type { RuffRequest } from '../../src/validate/ruff/ruff-protocol.js';
import type { SourceFile } from '../../src/validate/source.js';
import { runRuffStages } from '../../src/validate/stages/lint.js';
import { validateFolder } from '../../src/validate/pipeline.js';
import { fixtureRepo } from '../helpers/fixture-repo.js';
import { useValidation } from '../helpers/validation-ports.js';

const ruff = RuffHost.start({ worker: null });
afterAll(() => ruff.close());

const config = (overrides: Record<string, unknown> = {}): ValidationConfig => ValidationConfigSchema.parse(overrides);
const sources = (files: Record<string, string>): SourceFile[] => Object.entries(files).map(([path, text]) => ({ path, text, bytes: Buffer.byteLength(text) }));

/** A small library laid out like real ones: its own Ruff settings, code that follows them, tests with asserts. */
const PYPROJECT = `[project]
name = "textkit"
requires-python = ">=3.9"

[tool.ruff]
line-length = 120

[tool.ruff.lint]
select = ["E", "F", "W", "I", "B", "UP", "S"]
ignore = ["E731"]

[tool.ruff.lint.per-file-ignores]
"tests/*" = ["S101", "E501"]
"src/textkit/__init__.py" = ["F401"]

[tool.ruff.format]
quote-style = "single"
`;

const LIBRARY = {
  'src/textkit/__init__.py': "from textkit.core import normalise, shout\n",
  'src/textkit/core.py': [
    "from typing import Optional",
    '',
    "squash = lambda text: ' '.join(text.split())",
    '',
    '',
    "def normalise(text: str, fallback: Optional[str] = None) -> str:",
    "    result = squash(text).strip().lower() if text else (fallback or '')  # and the fallback when there is no text at all",
    '    return result',
    '',
    '',
    'def shout(text: str) -> str:',
    "    return normalise(text).upper() + '!'",
    '',
  ].join('\n'),
  'tests/test_core.py': [
    'from textkit.core import normalise, shout',
    '',
    '',
    'def test_normalise():',
    "    assert normalise('  Hello   World ') == 'hello world', 'squashes the whitespace inside, lowers the case'",
    '',
    '',
    'def test_shout():',
    "    assert shout('hi') == 'HI!'",
    '',
  ].join('\n'),
};

describe("the lint stage with the repository's Ruff settings", () => {
  it("finds nothing in a library that follows its own settings, where Code4Py's defaults find plenty", async () => {
    const own = await runRuffStages(sources({ ...LIBRARY, 'pyproject.toml': PYPROJECT }), ruff, config());
    expect(own.lint.findings).toEqual([]);
    expect(own.lint.status).toBe('passed');
    expect(own.lint.summary).toMatch(/^no findings in 3 files \(Ruff [\d.]+, settings of pyproject\.toml\)$/);
    // The per-file ignore for tests/ is the library's; the security stage keeps its own rules (S101 off in tests).
    expect(own.security.status).toBe('passed');

    const ours = await runRuffStages(sources(LIBRARY), ruff, config());
    const rules = new Set(ours.lint.findings.map((f) => f.rule));
    expect(ours.lint.findings.length).toBeGreaterThanOrEqual(6);
    expect([...rules]).toEqual(expect.arrayContaining(['E501', 'E731', 'F401', 'UP045', 'format']));
  });

  it('follows an extend chain inside the repository, each file checked with its nearest configuration', async () => {
    const files = sources({
      'ruff-base.toml': 'line-length = 100\n[lint]\nselect = ["E", "F"]\n',
      'packages/core/ruff.toml': 'extend = "../../ruff-base.toml"\n[lint]\nextend-select = ["B"]\nignore = ["E501"]\n',
      'packages/core/mod.py': `def f(items=[]):\n    return items + ["${'x'.repeat(120)}"]\n`,
      'scripts/run.py': `import os\n\nprint("${'words '.repeat(17)}")\n`,
    });
    const { lint } = await runRuffStages(files, ruff, config({ lint: { format: false } }));
    expect(lint.findings.map((f) => `${f.path} ${f.rule}`)).toEqual(['packages/core/mod.py B006', 'scripts/run.py F401', 'scripts/run.py E501']);
    expect(lint.summary).toContain('settings of packages/core/ruff.toml (extending ruff-base.toml)');
    expect(lint.summary).toContain("Code4Py's defaults elsewhere");
  });

  it('leaves out what the settings exclude, and says how many', async () => {
    const files = sources({ 'ruff.toml': 'extend-exclude = ["migrations"]\n', 'app.py': 'x = 1\n', 'migrations/0001.py': 'import os\n' });
    const { lint } = await runRuffStages(files, ruff, config());
    expect(lint.findings).toEqual([]);
    expect(lint.summary).toMatch(/^no findings in 1 file; 1 excluded by the Ruff settings /);
  });

  it('honours the repository’s # noqa comments, as its own Ruff runs would', async () => {
    const { lint } = await runRuffStages(sources({ 'ruff.toml': '[lint]\nselect = ["F"]\n', 'a.py': 'import os  # noqa: F401\nimport sys\n' }), ruff, config());
    expect(lint.findings.map((f) => `${f.line} ${f.rule}`)).toEqual(['2 F401']);
  });

  describe('with .github/code4py.yml keys', () => {
    it('overrides only what each key names', async () => {
      const files = sources({ ...LIBRARY, 'pyproject.toml': PYPROJECT });
      const narrower = await runRuffStages(files, ruff, config({ lint: { line_length: 60 } }));
      expect([...new Set(narrower.lint.findings.map((f) => f.rule))].sort()).toEqual(['E501', 'format']);
      // lint.select replaces the selection; the library's per-file ignores (E501 in tests/) still apply.
      const selected = await runRuffStages(files, ruff, config({ lint: { select: ['E501', 'F'], line_length: 100, format: false } }));
      expect(selected.lint.findings.map((f) => `${f.path}:${f.line} ${f.rule}`)).toEqual(['src/textkit/core.py:7 E501']);
      expect(selected.lint.summary).toContain('with lint.select, lint.line_length of the Code4Py config');
      const ignored = await runRuffStages(files, ruff, config({ lint: { ignore: ['E'], line_length: 100, format: false } }));
      expect(ignored.lint.findings).toEqual([]);
    });

    it('names the Code4Py config when Ruff refuses one of its rules', async () => {
      const { lint } = await runRuffStages(sources({ ...LIBRARY, 'pyproject.toml': PYPROJECT }), ruff, config({ lint: { select: ['XYZ9'] } }));
      expect(lint.status).toBe('error');
      expect(lint.summary).toBe('Ruff refused lint.select / lint.ignore of the Code4Py config: Unknown rule selector `XYZ9` in `select`');
    });
  });

  describe('a configuration that cannot be used', () => {
    it('is a lint error naming the file and the problem, never a guess; security still runs', async () => {
      const files = sources({ 'pyproject.toml': '[tool.ruff]\nline-length = 120\n[tool.ruff.lint\nselect = ["E"]\n', 'run.py': 'import os\n\nos.system("ls " + input())\n' });
      const { lint, security } = await runRuffStages(files, ruff, config());
      expect(lint.status).toBe('error');
      expect(lint.summary).toMatch(/^the repository's Ruff settings cannot be used: pyproject\.toml is not valid TOML at line 3, column \d+: /);
      expect(lint.findings[0]).toMatchObject({ path: 'pyproject.toml', rule: 'ruff-config', severity: 'error' });
      expect(security.findings.map((f) => f.rule)).toEqual(['S605']);
    });

    it("is a lint error with Ruff's reason and the file when it selects a rule Ruff does not know", async () => {
      const { lint } = await runRuffStages(sources({ 'ruff.toml': '[lint]\nselect = ["E", "NOPE1"]\n', 'a.py': 'x = 1\n' }), ruff, config());
      expect(lint.status).toBe('error');
      expect(lint.summary).toBe('Ruff refused the settings of ruff.toml: Unknown rule selector `NOPE1` in `select`');
    });

    it('is a lint error when it extends a file outside the repository', async () => {
      const { lint } = await runRuffStages(sources({ 'ruff.toml': 'extend = "../../shared/ruff.toml"\n', 'a.py': 'x = 1\n' }), ruff, config());
      expect(lint.status).toBe('error');
      expect(lint.summary).toContain('ruff.toml: extend = "../../shared/ruff.toml" points outside the repository');
    });
  });

  describe('the security stage', () => {
    it("checks the Python version the repository targets, with Code4Py's rules and no exclusions", async () => {
      const files = sources({
        'pyproject.toml': '[project]\nrequires-python = ">=3.10"\n[tool.ruff]\nextend-exclude = ["scripts"]\n[tool.ruff.lint]\nselect = ["F"]\nignore = ["S"]\n',
        'scripts/deploy.py': 'import subprocess\n\nsubprocess.call("deploy " + input(), shell=True)  # noqa: S602\n',
      });
      const requests: RuffRequest[] = [];
      const recording = { lint: (request: RuffRequest) => (requests.push(request), ruff.lint(request)) };
      const { lint, security } = await runRuffStages(files, recording, config());
      expect(lint.summary).toMatch(/^no findings in 0 files; 1 excluded by the Ruff settings/);
      expect(security.findings.map((f) => [f.path, f.rule, f.severity])).toEqual([['scripts/deploy.py', 'S602', 'error']]);
      const passes = requests[0]?.passes ?? [];
      expect(passes).toHaveLength(1);
      expect(passes[0]?.options).toMatchObject({ 'target-version': 'py310', lint: { select: ['S'], ignore: [] } });
    });
  });

  it("assumes the Python version Ruff's own default names", () => {
    const defaults = Workspace.defaultSettings() as Map<string, unknown> | Record<string, unknown>;
    const target = defaults instanceof Map ? defaults.get('target-version') : defaults['target-version'];
    expect(target).toBe(RUFF_DEFAULT_TARGET);
    new Workspace({}, PositionEncoding.Utf16).free();
  });
});

describe('code4py validate on a repository with Ruff settings', () => {
  const validation = useValidation();

  it('reports the lint findings its own settings give, in the sandboxed pipeline', async () => {
    const repo = await fixtureRepo({ commits: [{ ...LIBRARY, 'pyproject.toml': PYPROJECT }] });
    try {
      const report = await validateFolder(repo.dir, { config: config(), sandbox: validation.sandbox(), linter: validation.linter() });
      const lint = report.stages.find((s) => s.name === 'lint');
      expect(lint).toMatchObject({ status: 'passed', findings: [] });
      expect(report.stages.find((s) => s.name === 'security')?.status).toBe('passed');
    } finally {
      await repo.cleanup();
    }
  });
});
