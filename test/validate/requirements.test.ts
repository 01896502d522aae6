import { describe, expect, it } from 'vitest';
import type { SourceFile } from '../../src/validate/source.js';
import { normalizeName } from '../../src/validate/stages/import-names.js';
import { collectRequirements, parsePyproject, parseRequirementsTxt, requirementName } from '../../src/validate/stages/requirements.js';

const file = (path: string, text: string): SourceFile => ({ path, text, bytes: Buffer.byteLength(text) });
const names = (parsed: { requirements: readonly { name: string }[] }): string[] => parsed.requirements.map((r) => r.name);

describe('requirement names (PEP 508 and pip)', () => {
  it.each([
    ['requests', 'requests'],
    ['requests>=2.31,<3', 'requests'],
    ['requests [security, socks] >= 2.0', 'requests'],
    ['Django~=5.0; python_version >= "3.10"', 'Django'],
    ['zope.interface==6.0', 'zope.interface'],
    ['pkg (>=1.0)', 'pkg'],
    ['mypkg @ https://example.com/mypkg-1.0.tar.gz', 'mypkg'],
    ['mypkg@git+https://github.com/org/mypkg.git@v1', 'mypkg'],
    ['https://files.example.com/packages/python_dateutil-2.9.0-py2.py3-none-any.whl', 'python_dateutil'],
    ['https://example.com/archive/attrs-23.1.0.tar.gz', 'attrs'],
    ['git+https://github.com/psf/requests.git@v2.31.0', 'requests'],
    ['git+https://github.com/org/repo.git#egg=real-name', 'real-name'],
  ])('reads `%s` as %s', (spec, name) => {
    expect(requirementName(spec)).toBe(name);
  });

  it('names no distribution for a local folder, and cannot read a version without an operator', () => {
    expect(requirementName('./vendor/lib')).toBeUndefined();
    expect(requirementName('.')).toBeUndefined();
    expect(requirementName('requests 2.0')).toBeNull();
  });

  it('normalises names as PEP 503 says', () => {
    expect(normalizeName('Python_Dateutil')).toBe('python-dateutil');
    expect(normalizeName('zope.interface')).toBe('zope-interface');
    expect(normalizeName('a-_.b')).toBe('a-b');
  });
});

describe('requirements.txt', () => {
  it('skips comments, blank lines and options, and joins continued lines', () => {
    const text = [
      '# the web part',
      '--index-url https://pypi.example.com/simple',
      '--extra-index-url=https://other.example.com/simple',
      '',
      'flask==3.0.0  # pinned for the template engine',
      'numpy>=1.26 \\',
      '    ; python_version >= "3.10"',
      'pandas==2.2.0 --hash=sha256:abc123 \\',
      '    --hash=sha256:def456',
      '-c constraints.txt',
      '--pre',
      'pkg @ https://example.com/pkg.zip#sha256=1234',
    ].join('\n');
    const parsed = parseRequirementsTxt('requirements.txt', text);
    expect(parsed.requirements.map((r) => [r.name, r.line])).toEqual([
      ['flask', 5],
      ['numpy', 6],
      ['pandas', 8],
      ['pkg', 12],
    ]);
    expect(parsed.problems).toEqual([]);
    expect(parsed.includes).toEqual([]);
  });

  it('reads -r includes and -e editable installs', () => {
    const parsed = parseRequirementsTxt(
      'requirements-dev.txt',
      '-r requirements.txt\n--requirement=base.txt\n-rother.txt\n-e .\n-e git+https://github.com/org/tool.git#egg=tool\n--editable ./libs/helper\n',
    );
    expect(parsed.includes.map((i) => [i.path, i.line])).toEqual([
      ['requirements.txt', 1],
      ['base.txt', 2],
      ['other.txt', 3],
    ]);
    expect(names(parsed)).toEqual(['tool']);
    expect(parsed.problems).toEqual([]);
  });

  it('reports a line pip cannot read, at its line', () => {
    const parsed = parseRequirementsTxt('requirements.txt', 'requests\nnumpy 1.26\n');
    expect(names(parsed)).toEqual(['requests']);
    expect(parsed.problems).toEqual([{ path: 'requirements.txt', line: 2, message: '`numpy 1.26` is not a requirement pip can read' }]);
  });

  it('accepts Windows line endings', () => {
    expect(names(parseRequirementsTxt('requirements.txt', 'requests\r\nflask\r\n'))).toEqual(['requests', 'flask']);
  });
});

describe('pyproject.toml', () => {
  it('reads PEP 621 dependencies, optional dependencies and PEP 735 groups', () => {
    const text = `
[project]
name = "demo"
dependencies = ["httpx>=0.27", "PyYAML; sys_platform != 'win32'"]

[project.optional-dependencies]
cli = ["rich[jupyter]"]

[dependency-groups]
test = ["pytest>=8", "hypothesis"]
dev = [{ include-group = "test" }, "ruff"]
`;
    const parsed = parsePyproject('pyproject.toml', text);
    expect(names(parsed)).toEqual(['httpx', 'PyYAML', 'rich', 'pytest', 'hypothesis', 'ruff']);
    expect(parsed.problems).toEqual([]);
  });

  it('reads Poetry dependencies and groups, leaving out the Python version', () => {
    const text = `
[tool.poetry.dependencies]
python = "^3.11"
requests = "^2.31"
beautifulsoup4 = { version = "^4.12", optional = true }

[tool.poetry.dev-dependencies]
black = "*"

[tool.poetry.group.test.dependencies]
pytest-mock = "^3"
`;
    expect(names(parsePyproject('pyproject.toml', text))).toEqual(['requests', 'beautifulsoup4', 'black', 'pytest-mock']);
  });

  it('reports a malformed file at its line instead of failing', () => {
    const parsed = parsePyproject('pyproject.toml', '[project]\ndependencies = ["requests"\nname = "x"\n');
    expect(parsed.requirements).toEqual([]);
    expect(parsed.problems).toHaveLength(1);
    expect(parsed.problems[0]).toMatchObject({ path: 'pyproject.toml', line: 3 });
    expect(parsed.problems[0]?.message).toMatch(/^pyproject.toml is not valid TOML \(.+\); its dependencies were not read$/);
  });

  it('reports a dependency list of the wrong shape and still reads the others', () => {
    const parsed = parsePyproject('pyproject.toml', '[project]\ndependencies = "requests"\n\n[project.optional-dependencies]\nweb = ["flask"]\n');
    expect(names(parsed)).toEqual(['flask']);
    expect(parsed.problems).toEqual([
      { path: 'pyproject.toml', line: 0, message: '[project].dependencies in pyproject.toml is not in the expected form; its dependencies were not read' },
    ]);
  });
});

describe('collecting the requirements of a folder', () => {
  it('reads every requirements file and pyproject.toml, following includes relative to the including file', () => {
    const declarations = collectRequirements([
      file('requirements.txt', '-r requirements/base.txt\nflask\n'),
      file('requirements/base.txt', '-r ../shared/common-deps.txt\nrequests\n'),
      file('shared/common-deps.txt', 'attrs\n'),
      file('services/api/requirements-dev.txt', 'pytest\n'),
      file('pyproject.toml', '[project]\ndependencies = ["httpx"]\n'),
      file('notes.txt', 'numpy\n'),
    ]);
    expect(declarations.requirements.map((r) => `${r.path}:${r.name}`).sort()).toEqual([
      'pyproject.toml:httpx',
      'requirements.txt:flask',
      'requirements/base.txt:requests',
      'services/api/requirements-dev.txt:pytest',
      'shared/common-deps.txt:attrs',
    ]);
    expect(declarations.problems).toEqual([]);
    expect(declarations.pyprojectFiles).toEqual(['pyproject.toml']);
  });

  it('reports an include that is missing and survives includes that loop', () => {
    const declarations = collectRequirements([
      file('requirements.txt', '-r requirements-dev.txt\n-r missing.txt\nflask\n'),
      file('requirements-dev.txt', '-r requirements.txt\npytest\n'),
    ]);
    expect(declarations.requirements.map((r) => r.name).sort()).toEqual(['flask', 'pytest']);
    expect(declarations.problems).toEqual([{ path: 'requirements.txt', line: 2, message: '`-r missing.txt` names a file that is not in the folder' }]);
  });

  it('reports a requirements file that is not UTF-8', () => {
    const declarations = collectRequirements([{ path: 'requirements.txt', text: null, bytes: 10 }]);
    expect(declarations.problems).toEqual([{ path: 'requirements.txt', line: 0, message: 'requirements.txt is not UTF-8 text; its requirements were not read' }]);
  });
});
