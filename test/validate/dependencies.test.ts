import { describe, expect, it } from 'vitest';
import { defaultValidationConfig, ValidationConfigSchema } from '../../src/config/schema.js';
import type { ImportRecord, SourceFile } from '../../src/validate/source.js';
import { runDependencies } from '../../src/validate/stages/dependencies.js';
import { distributionsFor, localModules } from '../../src/validate/stages/import-names.js';

const file = (path: string, text = ''): SourceFile => ({ path, text, bytes: Buffer.byteLength(text) });
const imp = (path: string, line: number, module: string, extra: Partial<ImportRecord> = {}): ImportRecord => ({
  path,
  line,
  module,
  level: 0,
  optional: false,
  typeChecking: false,
  ...extra,
});
// A slice of sys.stdlib_module_names, as the sandbox's Python reports it.
const STDLIB = new Set(['os', 'sys', 'json', 'typing', '__future__', 'collections', 'unittest']);

function check(files: SourceFile[], imports: ImportRecord[], strict = false) {
  const config = strict ? ValidationConfigSchema.parse({ dependencies: { strict: true } }) : defaultValidationConfig();
  return runDependencies({ files, imports, stdlib: STDLIB, config });
}

describe('dependencies stage', () => {
  it('passes imports of the standard library, the code itself and declared requirements', () => {
    const result = check(
      [file('app/__init__.py'), file('app/web.py'), file('requirements.txt', 'Flask>=3\npython-dateutil\n')],
      [
        imp('app/web.py', 1, '__future__'),
        imp('app/web.py', 2, 'os.path'),
        imp('app/web.py', 3, 'flask'),
        imp('app/web.py', 4, 'dateutil.parser'),
        imp('app/web.py', 5, 'app.models'),
        imp('app/web.py', 6, '', { level: 1 }),
      ],
    );
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.summary).toBe('5 imported modules: 2 standard library, 1 local, 2 declared');
  });

  it('warns about an undeclared third-party import at its line, naming the requirement to add', () => {
    const result = check([file('fetch.py'), file('requirements.txt', 'flask\n')], [imp('fetch.py', 3, 'requests'), imp('fetch.py', 4, 'json')]);
    expect(result.status).toBe('warning');
    expect(result.findings).toEqual([
      {
        path: 'fetch.py',
        line: 3,
        rule: 'undeclared-dependency',
        message: '`requests` is imported but not declared: add `requests` to requirements.txt',
        severity: 'warning',
      },
    ]);
    expect(result.summary).toBe('2 imported modules: 1 standard library; 1 undeclared (requests)');
  });

  it('fails on an undeclared import when dependencies.strict is set', () => {
    const result = check([file('fetch.py')], [imp('fetch.py', 1, 'requests')], true);
    expect(result.status).toBe('failed');
    expect(result.findings.map((f) => [f.severity, f.message])).toEqual([
      ['error', '`requests` is imported but not declared: add `requests` to requirements.txt (or pyproject.toml [project].dependencies)'],
    ]);
  });

  it('suggests the distribution name where it differs from the import name', () => {
    const result = check(
      [file('img.py'), file('pyproject.toml', '[project]\nname = "img"\ndependencies = []\n')],
      [imp('img.py', 1, 'yaml'), imp('img.py', 2, 'PIL.Image'), imp('img.py', 3, 'cv2'), imp('img.py', 4, 'sklearn.linear_model'), imp('img.py', 5, 'google.protobuf.json_format')],
    );
    expect(result.findings.map((f) => f.message)).toEqual([
      '`yaml` is imported but not declared: add `PyYAML` to pyproject.toml [project].dependencies',
      '`PIL.Image` is imported but not declared: add `Pillow` to pyproject.toml [project].dependencies',
      '`cv2` is imported but not declared: add `opencv-python` to pyproject.toml [project].dependencies',
      '`sklearn.linear_model` is imported but not declared: add `scikit-learn` to pyproject.toml [project].dependencies',
      '`google.protobuf.json_format` is imported but not declared: add `protobuf` to pyproject.toml [project].dependencies',
    ]);
  });

  it('accepts any distribution that provides the import, whatever the spelling', () => {
    const result = check(
      [file('app.py'), file('requirements.txt', 'opencv-python-headless\npyyaml\nBeautifulSoup4\ntyping_extensions\ngoogle-cloud-storage\n')],
      [imp('app.py', 1, 'cv2'), imp('app.py', 2, 'yaml'), imp('app.py', 3, 'bs4'), imp('app.py', 4, 'typing_extensions'), imp('app.py', 5, 'google.cloud.storage')],
    );
    expect(result.findings).toEqual([]);
    expect(result.summary).toBe('5 imported modules: 5 declared');
  });

  it('reports an undeclared module once per file', () => {
    const result = check([file('a.py'), file('b.py')], [imp('a.py', 1, 'requests'), imp('a.py', 9, 'requests.adapters'), imp('b.py', 2, 'requests')]);
    expect(result.findings.map((f) => [f.path, f.line])).toEqual([
      ['a.py', 1],
      ['b.py', 2],
    ]);
  });

  it('says nothing of pytest imported by the tests: the validator provides the test runner', () => {
    const result = check(
      [file('calc.py'), file('tests/test_calc.py'), file('tests/test_more.py')],
      [imp('tests/test_calc.py', 1, 'pytest'), imp('tests/test_more.py', 1, 'pytest'), imp('tests/test_calc.py', 2, 'calc')],
    );
    expect(result.status).toBe('passed');
    expect(result.findings).toEqual([]);
    expect(result.summary).toBe('2 imported modules: 1 local, 1 provided by the validator (pytest)');
  });

  it('tells declared and installed from declared but not installable, once the environment stage has run', () => {
    const installed = {
      distributions: [
        { name: 'PyYAML', top: ['yaml', '_yaml'] },
        { name: 'acme-sdk', top: ['acme'] },
      ],
      failed: [{ name: 'nosuch-pkg' }],
    };
    const result = runDependencies({
      files: [file('app.py'), file('requirements.txt', 'pyyaml\nacme-sdk\nnosuch-pkg\n')],
      imports: [imp('app.py', 1, 'yaml'), imp('app.py', 2, 'acme.client'), imp('app.py', 3, 'nosuch_pkg')],
      stdlib: STDLIB,
      config: defaultValidationConfig(),
      installed,
    });
    expect(result.status).toBe('failed');
    expect(result.findings).toEqual([
      expect.objectContaining({ path: 'app.py', line: 3, rule: 'dependency-not-installable', severity: 'error' }),
    ]);
    expect(result.findings[0]?.message).toMatch(/^`nosuch_pkg` is declared but could not be installed/);
    // `acme` is provided by `acme-sdk`: the environment knows what no table of names does.
    expect(result.summary).toBe('3 imported modules: 2 declared and installed, 1 declared but not installable (nosuch_pkg)');
  });

  it('counts pytest as provided in test files when the project declares it but its pin could not be installed', () => {
    // The tests run under the validator's own pytest then: the environment stage reports the failed pin once.
    const result = runDependencies({
      files: [file('pkg/__init__.py'), file('pyproject.toml', '[project]\nname = "pkg"\nversion = "1"\n\n[dependency-groups]\ndev = ["pytest>=8"]\n')],
      imports: [imp('tests/test_a.py', 1, 'pytest'), imp('tests/test_b.py', 1, 'pytest'), imp('pkg/plugin.py', 1, 'pytest')],
      stdlib: STDLIB,
      config: defaultValidationConfig(),
      installed: { distributions: [], failed: [{ name: 'pytest' }] },
    });
    // The code itself has no such runner to rely on: its import of the uninstallable pin stays an error.
    expect(result.findings.map((f) => [f.path, f.rule, f.severity])).toEqual([['pkg/plugin.py', 'dependency-not-installable', 'error']]);
    expect(result.summary).toBe('1 imported module: 1 declared but not installable (pytest)');
  });

  it('warns about pytest imported by the code itself', () => {
    const result = check([file('plugin.py')], [imp('plugin.py', 1, 'pytest')]);
    expect(result.findings.map((f) => [f.path, f.severity])).toEqual([['plugin.py', 'warning']]);
  });

  it('notes an undeclared optional import without warning, and ignores TYPE_CHECKING imports', () => {
    const result = check(
      [file('fast.py')],
      [imp('fast.py', 2, 'ujson', { optional: true }), imp('fast.py', 5, 'pandas', { typeChecking: true })],
      true,
    );
    expect(result.status).toBe('passed');
    expect(result.findings.map((f) => [f.line, f.severity])).toEqual([[2, 'info']]);
    expect(result.findings[0]?.message).toMatch(/^`ujson` is imported inside `try: … except ImportError` and not declared/);
    expect(result.summary).toBe('1 imported module: 1 optional and undeclared (ujson)');
  });

  it('counts a module imported both optionally and unconditionally as undeclared', () => {
    const result = check([file('a.py'), file('b.py')], [imp('a.py', 1, 'ujson', { optional: true }), imp('b.py', 1, 'ujson')]);
    expect(result.status).toBe('warning');
    expect(result.summary).toBe('1 imported module: 1 undeclared (ujson)');
  });

  it('knows the modules of a src/ layout and of nested folders as the code’s own', () => {
    const result = check(
      [file('src/mypkg/__init__.py'), file('src/mypkg/core.py'), file('scripts/tool.py'), file('tests/helpers.py')],
      [imp('tests/helpers.py', 1, 'mypkg.core'), imp('scripts/tool.py', 1, 'tool'), imp('tests/test_x.py', 1, 'helpers')],
    );
    expect(result.findings).toEqual([]);
    expect(result.summary).toBe('3 imported modules: 3 local');
  });

  it('warns about a malformed pyproject.toml, whose dependencies it then cannot see', () => {
    const result = check([file('app.py'), file('pyproject.toml', '[project\ndependencies = ["requests"]\n')], [imp('app.py', 1, 'requests')]);
    expect(result.status).toBe('warning');
    expect(result.findings.map((f) => [f.path, f.line, f.rule])).toEqual([
      ['app.py', 1, 'undeclared-dependency'],
      ['pyproject.toml', 1, 'invalid-pyproject'],
    ]);
  });

  it('says so when there is nothing to check', () => {
    expect(check([file('empty.py')], [])).toMatchObject({ status: 'passed', summary: 'no absolute imports', findings: [] });
  });
});

describe('import names', () => {
  it('maps the longest known prefix of an import to its distributions', () => {
    expect(distributionsFor('google.protobuf.message')).toEqual(['protobuf']);
    expect(distributionsFor('dateutil.tz')).toEqual(['python-dateutil']);
    expect(distributionsFor('requests.adapters')).toEqual(['requests']);
  });

  it('finds the top-level names of modules and folders holding Python files', () => {
    expect([...localModules([file('src/pkg/__init__.py'), file('a/b/c.py'), file('my-scripts/run.py'), file('README.md')])].sort()).toEqual([
      'a',
      'b',
      'c',
      'pkg',
      'run',
      'src',
    ]);
  });
});
