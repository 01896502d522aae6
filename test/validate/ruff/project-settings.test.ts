import { describe, expect, it } from 'vitest';
import { ValidationConfigSchema } from '../../../src/config/schema.js';
import { readProjectRuff, type LintOverrides } from '../../../src/validate/ruff/project-settings.js';

const NO_OVERRIDES: LintOverrides = ValidationConfigSchema.parse({}).lint;

/** A repository as the settings reader sees it: every path, with its text. */
function project(files: Record<string, string>, overrides: LintOverrides = NO_OVERRIDES) {
  return readProjectRuff(
    Object.entries(files).map(([path, text]) => ({ path, text })),
    overrides,
  );
}

const lintOf = (options: Record<string, unknown>): Record<string, unknown> => options.lint as Record<string, unknown>;

describe("reading a repository's Ruff settings", () => {
  it("gives a repository without Ruff settings Code4Py's defaults", () => {
    const settings = project({ 'calc.py': '', 'pyproject.toml': '[project]\nname = "calc"\n' }).settingsFor('calc.py');
    expect(settings.source).toBeNull();
    expect(settings.options).toMatchObject({ 'line-length': 88, lint: { select: ['E', 'F', 'W', 'B', 'I', 'UP'] } });
    expect(settings.targetVersion).toBe('py311');
  });

  it('reads [tool.ruff] in pyproject.toml: line-length, select, ignore, and the per-file ignores that match the file', () => {
    const repo = project({
      'pyproject.toml': [
        '[project]',
        'requires-python = ">=3.9"',
        '[tool.ruff]',
        'line-length = 120',
        '[tool.ruff.lint]',
        'select = ["E", "F", "B", "S"]',
        'ignore = ["E501"]',
        '[tool.ruff.lint.per-file-ignores]',
        '"tests/**" = ["S101", "F401"]',
        '"__init__.py" = ["F401"]',
      ].join('\n'),
      'src/pkg/__init__.py': '',
      'src/pkg/core.py': '',
      'tests/unit/test_core.py': '',
    });
    const core = repo.settingsFor('src/pkg/core.py');
    expect(core.source).toBe('pyproject.toml');
    expect(core.options).toMatchObject({ 'line-length': 120, 'target-version': 'py39', lint: { select: ['E', 'F', 'B', 'S'], ignore: ['E501'] } });
    expect(lintOf(core.options)['per-file-ignores']).toBeUndefined();
    expect(lintOf(repo.settingsFor('tests/unit/test_core.py').options)['per-file-ignores']).toEqual({ '*': ['S101', 'F401'] });
    expect(lintOf(repo.settingsFor('src/pkg/__init__.py').options)['per-file-ignores']).toEqual({ '*': ['F401'] });
  });

  it('prefers .ruff.toml to ruff.toml to pyproject.toml in one folder, as Ruff does', () => {
    const files = { 'pyproject.toml': '[tool.ruff]\nline-length = 100\n', 'ruff.toml': 'line-length = 110\n', '.ruff.toml': 'line-length = 120\n', 'a.py': '' };
    expect(project(files).settingsFor('a.py')).toMatchObject({ source: '.ruff.toml', options: { 'line-length': 120 } });
    const { '.ruff.toml': _, ...withoutDot } = files;
    expect(project(withoutDot).settingsFor('a.py')).toMatchObject({ source: 'ruff.toml', options: { 'line-length': 110 } });
  });

  it('uses the nearest configuration for each file; a nested one does not inherit from the root unless it extends it', () => {
    const repo = project({
      'ruff.toml': 'line-length = 100\n[lint]\nselect = ["E"]\n',
      'tools/ruff.toml': '[lint]\nselect = ["F"]\n',
      'app/ruff.toml': 'extend = "../ruff.toml"\n[lint]\nextend-select = ["B"]\n',
      'main.py': '',
      'tools/gen.py': '',
      'app/views.py': '',
    });
    expect(repo.settingsFor('main.py').options).toMatchObject({ 'line-length': 100, lint: { select: ['E'] } });
    const tools = repo.settingsFor('tools/gen.py').options;
    expect(tools['line-length']).toBeUndefined();
    expect(lintOf(tools).select).toEqual(['F']);
    expect(repo.settingsFor('app/views.py')).toMatchObject({
      source: 'app/ruff.toml (extending ruff.toml)',
      options: { 'line-length': 100, lint: { select: ['E'], 'extend-select': ['B'] } },
    });
  });

  it('follows an extend chain inside the repository: the extending file wins, extend-* lists add up, globs stay relative to their own file', () => {
    const repo = project({
      'config/base.toml': ['line-length = 100', 'extend-exclude = ["generated"]', '[lint]', 'select = ["E", "F"]', '[lint.per-file-ignores]', '"scripts/*" = ["E402"]', '[format]', 'quote-style = "single"'].join('\n'),
      'config/strict.toml': 'extend = "base.toml"\nline-length = 110\n[lint]\nextend-select = ["B"]\n',
      'ruff.toml': 'extend = "config/strict.toml"\nextend-exclude = ["vendor"]\n[lint]\nignore = ["E741"]\n',
      'config/scripts/seed.py': '',
      'scripts/run.py': '',
      'generated/out.py': '',
      'vendor/lib.py': '',
    });
    const run = repo.settingsFor('scripts/run.py');
    expect(run.source).toBe('ruff.toml (extending config/strict.toml, then config/base.toml)');
    expect(run.options).toMatchObject({ 'line-length': 110, format: { 'quote-style': 'single' }, lint: { select: ['E', 'F'], 'extend-select': ['B'], ignore: ['E741'] } });
    // base.toml's "scripts/*" is relative to config/, where base.toml lives.
    expect(lintOf(run.options)['per-file-ignores']).toBeUndefined();
    expect(lintOf(repo.settingsFor('config/scripts/seed.py').options)['per-file-ignores']).toEqual({ '*': ['E402'] });
    expect(repo.settingsFor('generated/out.py').lintExcluded).toBe('exclude');
    expect(repo.settingsFor('vendor/lib.py').lintExcluded).toBe('exclude');
    expect(repo.problems).toEqual([]);
  });

  it("applies Ruff's built-in excludes unless the configuration replaces them, and include, lint.exclude and format.exclude", () => {
    expect(project({ 'dist/x.py': '', 'a.py': '' }).settingsFor('dist/x.py').lintExcluded).toBe('exclude');
    const replaced = project({ 'ruff.toml': 'exclude = ["legacy"]\n', 'dist/x.py': '', 'legacy/old.py': '' });
    expect(replaced.settingsFor('dist/x.py').lintExcluded).toBeNull();
    expect(replaced.settingsFor('legacy/old.py').lintExcluded).toBe('exclude');
    const repo = project({
      'pyproject.toml': ['[tool.ruff]', 'include = ["src/**/*.py", "tests/**/*.py"]', '[tool.ruff.lint]', 'exclude = ["**/migrations/*"]', '[tool.ruff.format]', 'exclude = ["src/generated_*.py"]'].join('\n'),
      'scripts/tool.py': '',
      'src/app/migrations/0001_initial.py': '',
      'src/generated_api.py': '',
      'src/app/models.py': '',
    });
    expect(repo.settingsFor('scripts/tool.py').lintExcluded).toBe('include');
    expect(repo.settingsFor('src/app/migrations/0001_initial.py')).toMatchObject({ lintExcluded: 'lint.exclude', formatExcluded: false });
    expect(repo.settingsFor('src/generated_api.py')).toMatchObject({ lintExcluded: null, formatExcluded: true });
    expect(repo.settingsFor('src/app/models.py')).toMatchObject({ lintExcluded: null, formatExcluded: false });
  });

  it('matches globs as Ruff does: a star crosses folders, a bare name matches at any depth, ! negates a per-file entry', () => {
    const repo = project({
      'ruff.toml': ['extend-exclude = ["*_pb2.py"]', '[lint.per-file-ignores]', '"tests/*" = ["S101"]', '"!src/*" = ["T201"]'].join('\n'),
      'proto/deep/msg_pb2.py': '',
      'tests/a/b/test_x.py': '',
      'src/app.py': '',
    });
    expect(repo.settingsFor('proto/deep/msg_pb2.py').lintExcluded).toBe('exclude');
    expect(lintOf(repo.settingsFor('tests/a/b/test_x.py').options)['per-file-ignores']).toEqual({ '*': ['S101', 'T201'] });
    expect(lintOf(repo.settingsFor('src/app.py').options)['per-file-ignores']).toBeUndefined();
  });

  it('takes the target version from target-version, per-file-target-version, requires-python, else Ruff’s default', () => {
    const repo = project({
      'pyproject.toml': '[project]\nrequires-python = ">=3.10, <4"\n[tool.ruff]\nline-length = 90\n[tool.ruff.per-file-target-version]\n"legacy/*.py" = "py38"\n',
      'sub/ruff.toml': 'target-version = "py312"\n',
      'a.py': '',
      'legacy/b.py': '',
      'sub/c.py': '',
    });
    expect(repo.settingsFor('a.py').targetVersion).toBe('py310');
    expect(repo.settingsFor('legacy/b.py').targetVersion).toBe('py38');
    expect(repo.settingsFor('sub/c.py').options['target-version']).toBe('py312');
  });

  it('reads the deprecated top-level lint keys, which lint.* overrides', () => {
    const repo = project({ 'ruff.toml': 'select = ["E", "W"]\nignore = ["W291"]\n[per-file-ignores]\n"a.py" = ["E402"]\n[lint]\nselect = ["F"]\n', 'a.py': '' });
    expect(lintOf(repo.settingsFor('a.py').options)).toMatchObject({ select: ['F'], ignore: ['W291'], 'per-file-ignores': { '*': ['E402'] } });
  });

  describe('with keys of .github/code4py.yml', () => {
    const files = { 'pyproject.toml': '[tool.ruff]\nline-length = 120\n[tool.ruff.lint]\nselect = ["E501", "F"]\nignore = ["F841"]\n', 'a.py': '' };

    it('lets each key override only what it names', () => {
      const ignore = project(files, { ignore: ['E'] }).settingsFor('a.py').options;
      // E501 was selected by its exact code; ignoring E in a later layer still turns it off, as Ruff's --ignore would.
      expect(ignore).toMatchObject({ 'line-length': 120, lint: { select: ['E501', 'F'], ignore: ['F841', 'E', 'E501'] } });
      const select = project(files, { select: ['B'], line_length: 100 }).settingsFor('a.py').options;
      expect(select).toMatchObject({ 'line-length': 100, lint: { select: ['B'] } });
      expect(lintOf(select).ignore).toBeUndefined();
    });

    it('applies them over Code4Py’s defaults when the repository has no Ruff settings', () => {
      const options = project({ 'a.py': '' }, { ignore: ['B'], line_length: 79 }).settingsFor('a.py').options;
      expect(options).toMatchObject({ 'line-length': 79, lint: { select: ['E', 'F', 'W', 'B', 'I', 'UP'], ignore: ['B'] } });
    });
  });

  it("lists the code's own modules as first-party for isort, besides the repository's own list", () => {
    const repo = project({ 'ruff.toml': '[lint.isort]\nknown-first-party = ["shared"]\nknown-third-party = ["tests"]\n', 'src/calc/core.py': '', 'tests/test_core.py': '' });
    const isort = lintOf(repo.settingsFor('src/calc/core.py').options).isort as Record<string, unknown>;
    expect(isort['known-first-party']).toEqual(['shared', 'calc', 'core', 'src', 'test_core']);
    expect(isort['known-third-party']).toEqual(['tests']);
  });

  describe('a configuration that cannot be used', () => {
    const problemOf = (files: Record<string, string>, path = 'a.py') => {
      const repo = project({ 'a.py': '', ...files });
      const settings = repo.settingsFor(path);
      return { problem: settings.problem, problems: repo.problems };
    };

    it('names the file and the line of bad TOML', () => {
      const { problem, problems } = problemOf({ 'pyproject.toml': '[tool.ruff]\nline-length = 120\nselect = ["E",\n' });
      expect(problem?.file).toBe('pyproject.toml');
      expect(problem?.message).toMatch(/^pyproject\.toml is not valid TOML at line \d+, column \d+: /);
      expect(problems).toHaveLength(1);
    });

    it('names the key of a value of the wrong type', () => {
      expect(problemOf({ 'ruff.toml': '[lint]\nselect = "E"\n' }).problem?.message).toMatch(/^ruff\.toml: lint\.select: /);
    });

    it('refuses an extend outside the repository, absolute or through ..', () => {
      for (const extend of ['../shared/ruff.toml', '/etc/ruff.toml', '~/ruff.toml', '${HOME}/ruff.toml']) {
        const { problem } = problemOf({ 'ruff.toml': `extend = ${JSON.stringify(extend)}\n` });
        expect(problem?.message).toBe(`ruff.toml: extend = ${JSON.stringify(extend)} points outside the repository; Code4Py reads only configuration files inside it, so copy the settings in or extend a file of the repository`);
      }
    });

    it('says which extended file is missing, and which chain goes in a circle', () => {
      expect(problemOf({ 'ruff.toml': 'extend = "configs/base.toml"\n' }).problem?.message).toBe('configs/base.toml does not exist in the repository (extended by ruff.toml)');
      expect(problemOf({ 'ruff.toml': 'extend = ".config/ruff.toml"\n' }).problem?.message).toBe(
        '.config/ruff.toml does not exist in the repository (or is in a dot-folder, which `code4py validate` does not read) (extended by ruff.toml)',
      );
      expect(problemOf({ 'ruff.toml': 'extend = "b.toml"\n', 'b.toml': 'extend = "ruff.toml"\n' }).problem?.message).toBe(
        'ruff.toml extends b.toml extends ruff.toml: the configurations extend each other in a circle; remove one `extend`',
      );
    });

    it('is not read when a configuration above excludes its folder, as Ruff never walks into it', () => {
      const repo = project({ 'ruff.toml': 'extend-exclude = ["fixtures"]\n', 'fixtures/broken/pyproject.toml': '[tool.ruff\n', 'fixtures/broken/x.py': '', 'a.py': '' });
      expect(repo.settingsFor('fixtures/broken/x.py').lintExcluded).toBe('exclude');
      expect(repo.settingsFor('a.py').problem).toBeNull();
      expect(repo.problems).toEqual([]);
    });
  });
});
