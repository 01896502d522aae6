import { beforeAll, describe, expect, it } from 'vitest';
import { getSandbox, type ReadySandbox } from '../../src/sandbox/select.js';
import { runTests } from '../../src/validate/stages/tests.js';
import { writeWorkspace } from '../../src/validate/workspace.js';

let ready: ReadySandbox;
beforeAll(async () => {
  ready = await getSandbox('bwrap');
});

async function analyseFiles(files: Record<string, string | Buffer>) {
  const ws = await writeWorkspace(Object.entries(files).map(([path, content]) => ({ path, content: Buffer.from(content) })));
  try {
    return (await runTests(ready.sandbox, ws.root, [], 30)).analysis;
  } finally {
    await ws.dispose();
  }
}

describe('syntax stage', () => {
  it('passes files that Python parses and lists their imports', async () => {
    const result = await analyseFiles({
      'pkg/mod.py': 'import os\nfrom . import sibling\nfrom typing import TYPE_CHECKING\ntry:\n    import yaml\nexcept ImportError:\n    yaml = None\nif TYPE_CHECKING:\n    import numpy\n',
    });
    expect(result.syntax.status).toBe('passed');
    expect(result.syntax.summary).toMatch(/^1 Python file parse with Python 3\.\d+/);
    expect(result.imports).toEqual([
      { path: 'pkg/mod.py', line: 1, module: 'os', level: 0, optional: false, typeChecking: false },
      { path: 'pkg/mod.py', line: 2, module: '', level: 1, optional: false, typeChecking: false },
      { path: 'pkg/mod.py', line: 3, module: 'typing', level: 0, optional: false, typeChecking: false },
      { path: 'pkg/mod.py', line: 5, module: 'yaml', level: 0, optional: true, typeChecking: false },
      { path: 'pkg/mod.py', line: 9, module: 'numpy', level: 0, optional: false, typeChecking: true },
    ]);
  });

  it('reports a syntax error at its exact line and column, with Python\'s message', async () => {
    const result = await analyseFiles({ 'ok.py': 'x = 1\n', 'bad.py': 'def f(:\n    pass\n' });
    expect(result.syntax.status).toBe('failed');
    expect(result.syntax.summary).toBe('1 of 2 Python files cannot be validated');
    expect(result.syntax.findings).toEqual([
      expect.objectContaining({ path: 'bad.py', line: 1, column: 7, rule: 'syntax-error', severity: 'error', message: 'SyntaxError: invalid syntax', details: 'def f(:' }),
    ]);
  });

  it('reports wrong indentation as such', async () => {
    const result = await analyseFiles({ 'indent.py': 'def f():\nreturn 1\n' });
    expect(result.syntax.findings[0]).toMatchObject({ line: 2, message: expect.stringMatching(/^IndentationError: expected an indented block/) });
  });

  it('reports a file that is not UTF-8 (and declares no encoding) instead of crashing', async () => {
    const result = await analyseFiles({ 'latin.py': Buffer.from([0x78, 0x20, 0x3d, 0x20, 0x27, 0xe9, 0x27, 0x0a]) });
    expect(result.syntax.status).toBe('failed');
    expect(result.syntax.findings[0]?.message).toMatch(/utf-8|UTF-8/);
  });

  it('reports null bytes in a source file', async () => {
    const result = await analyseFiles({ 'nul.py': Buffer.from('x = 1\0\n') });
    expect(result.syntax.status).toBe('failed');
    expect(result.syntax.findings[0]).toMatchObject({ path: 'nul.py', severity: 'error' });
  });

  it('fails a folder with no Python files', async () => {
    const result = await analyseFiles({ 'README.md': '# nothing\n' });
    expect(result.syntax).toMatchObject({ status: 'failed', summary: 'no Python files' });
  });

  it('cannot be forged by the code under test, which runs after the parse and without its channel', async () => {
    const forged = JSON.stringify({ python: '3', files: [{ path: 'broken.py', error: null, imports: [] }] });
    const result = await analyseFiles({
      'broken.py': 'def f(:\n',
      'conftest.py': `import os\ntry:\n    os.write(4, ${JSON.stringify(forged)}.encode())\nexcept OSError:\n    pass\n`,
      'test_x.py': 'def test_x():\n    assert True\n',
    });
    expect(result.syntax.status).toBe('failed');
    expect(result.syntax.findings.map((f) => f.path)).toEqual(['broken.py']);
  });
});
