import { describe, expect, it } from 'vitest';
import { EnvironmentConfigSchema } from '../../../src/validate/environment/config.js';
import { readDeclarations } from '../../../src/validate/environment/declarations.js';
import type { SourceFile } from '../../../src/validate/source.js';

const files = (entries: Record<string, string>): SourceFile[] => Object.entries(entries).map(([path, text]) => ({ path, text, bytes: text.length }));
const config = (value: unknown = {}) => EnvironmentConfigSchema.parse(value);

describe('what a project declares for its environment', () => {
  it('reads the default requirements files, follows -r and -c, and keeps each line with its file and line', () => {
    const declared = readDeclarations(
      files({
        'requirements.txt': '# runtime\nrequests>=2  # http\n-r requirements/base.txt\n-c constraints.txt\n',
        'requirements/base.txt': 'PyYAML==6.0 ; python_version >= "3.8"\n',
        'requirements/test.txt': 'pytest-mock\n',
        'requirements-docs.txt': 'sphinx\n',
        'constraints.txt': 'urllib3<3\n',
        'sub/requirements.txt': 'ignored\n',
      }),
      config(),
    );
    expect(declared.requirements).toEqual([
      { spec: 'requests>=2', name: 'requests', path: 'requirements.txt', line: 2 },
      { spec: 'PyYAML==6.0 ; python_version >= "3.8"', name: 'pyyaml', path: 'requirements/base.txt', line: 1 },
      { spec: 'pytest-mock', name: 'pytest-mock', path: 'requirements/test.txt', line: 1 },
    ]);
    expect(declared.constraints).toEqual([{ spec: 'urllib3<3', name: 'urllib3', path: 'constraints.txt', line: 1 }]);
    expect(declared.project).toBeNull();
    expect(declared.notes).toEqual([]);
  });

  it('installs the files the config names instead', () => {
    const declared = readDeclarations(files({ 'requirements.txt': 'a\n', 'deps/ci.txt': 'b\n' }), config({ requirements: ['deps/*.txt'] }));
    expect(declared.requirements.map((r) => r.name)).toEqual(['b']);
  });

  it('ignores index options and local folders, saying why, and takes `-e .` as the project itself', () => {
    const declared = readDeclarations(files({ 'requirements.txt': '--index-url https://evil.example/simple\n--pre\n-e .\n-e ./libs/x\nreal\n' }), config());
    expect(declared.requirements.map((r) => r.spec)).toEqual(['real']);
    expect(declared.notes.map((n) => [n.line, n.rule, n.severity])).toEqual([
      [3, 'project-requirement', 'info'],
      [4, 'local-requirement', 'warning'],
      [1, 'index-option', 'warning'],
      [2, 'pip-option', 'info'],
    ]);
    expect(declared.notes[2]?.message).toContain("packages come only from the operator's index");
  });

  it('says a -r file that is not there is not installed', () => {
    const declared = readDeclarations(files({ 'requirements.txt': '-r missing.txt\n' }), config());
    expect(declared.notes).toEqual([expect.objectContaining({ path: 'requirements.txt', line: 1, rule: 'missing-requirements', severity: 'error' })]);
  });

  it('reads pyproject.toml: dependencies, the test extras (following self-references) and dependency groups (following includes)', () => {
    const pyproject = `
[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"

[project]
name = "My_Lib"
version = "1.0"
requires-python = ">=3.9"
dependencies = ["httpx>=0.27"]

[project.optional-dependencies]
test = ["my-lib[fast]", "pytest-asyncio"]
fast = ["orjson"]
docs = ["mkdocs"]

[dependency-groups]
lint = ["ruff"]
dev = [{include-group = "lint"}, "hypothesis"]
`;
    const declared = readDeclarations(files({ 'pyproject.toml': pyproject, 'src/my_lib/__init__.py': '', 'tests/test_x.py': '' }), config());
    expect(declared.requirements.map((r) => r.spec)).toEqual(['httpx>=0.27', 'orjson', 'pytest-asyncio', 'ruff', 'hypothesis']);
    expect(declared.requirements.every((r) => r.path === 'pyproject.toml' && r.line === 0)).toBe(true);
    expect(declared.project).toMatchObject({ path: 'pyproject.toml', name: 'My_Lib', version: '1.0', requiresPython: '>=3.9', layout: ['my_lib/', 'tests/'], srcLayout: true });
  });

  it('installs only the extras the config names', () => {
    const declared = readDeclarations(files({ 'pyproject.toml': '[project]\nname = "x"\nversion = "1"\n[project.optional-dependencies]\ntest = ["a"]\ndocs = ["b"]\n' }), config({ extras: ['docs'] }));
    expect(declared.requirements.map((r) => r.spec)).toEqual(['b']);
  });

  it('takes setup.py and setup.cfg projects (their dependencies come from the build backend), and no project without them', () => {
    const setup = readDeclarations(files({ 'setup.py': 'from setuptools import setup\nsetup(name="legacy", version="0.1", install_requires=["x"])\n' }), config());
    expect(setup.project).toMatchObject({ path: 'setup.py', name: 'legacy', version: '0.1' });
    expect(setup.requirements).toEqual([]);
    const toolOnly = readDeclarations(files({ 'pyproject.toml': '[tool.ruff]\nline-length = 100\n' }), config());
    expect(toolOnly.project).toBeNull();
    expect(readDeclarations(files({ 'setup.py': 'x' }), config({ install_project: false })).project).toBeNull();
  });

  it('keys the project by its metadata files and its top-level layout only', () => {
    const a = readDeclarations(files({ 'pyproject.toml': '[project]\nname = "x"\nversion = "1"\n', 'x/__init__.py': 'A = 1\n', 'x/util.py': '' }), config());
    const b = readDeclarations(files({ 'pyproject.toml': '[project]\nname = "x"\nversion = "1"\n', 'x/__init__.py': 'A = 2\n', 'x/more.py': '' }), config());
    expect(a.project?.metadataFiles).toEqual(b.project?.metadataFiles);
    expect(a.project?.layout).toEqual(b.project?.layout);
  });

  it('reports a pyproject.toml that is not valid TOML', () => {
    const declared = readDeclarations(files({ 'pyproject.toml': '[project\nname=' }), config());
    expect(declared.notes).toEqual([expect.objectContaining({ path: 'pyproject.toml', rule: 'invalid-pyproject', severity: 'error' })]);
  });
});

describe('environment config', () => {
  it('has defaults for every key and refuses unknown ones', () => {
    expect(config()).toEqual({
      requirements: ['requirements.txt', 'requirements-dev.txt', 'requirements/test*.txt'],
      extras: ['test', 'tests', 'testing', 'dev'],
      install_project: true,
      setup: [],
      allow_sdist: false,
      timeout_seconds: 600,
    });
    expect(EnvironmentConfigSchema.safeParse({ pythn: '3.12' }).success).toBe(false);
  });

  it('takes python as a quoted version, and refuses a number (YAML reads 3.10 as 3.1) or what is not a version', () => {
    expect(config({ python: '3.11' }).python).toBe('3.11');
    expect(EnvironmentConfigSchema.safeParse({ python: 3.1 }).error?.issues[0]?.message).toContain('must be a quoted Python version');
    expect(EnvironmentConfigSchema.safeParse({ python: 'latest' }).error?.issues[0]?.message).toBe('a Python version such as "3.12"');
  });
});
