import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultValidationConfig, ValidationConfigSchema, type ValidationConfig } from '../../src/config/schema.js';
import { RuffHost } from '../../src/validate/ruff/ruff-host.js';
import type { RuffRequest } from '../../src/validate/ruff/ruff-protocol.js';
import type { SourceFile } from '../../src/validate/source.js';
import { formatFinding } from '../../src/validate/ruff/format-finding.js';
import { runRuffStages } from '../../src/validate/stages/lint.js';

const file = (path: string, text: string): SourceFile => ({ path, text, bytes: Buffer.byteLength(text) });
const config = (overrides: Record<string, unknown> = {}): ValidationConfig => ValidationConfigSchema.parse(overrides);

const CALC = 'def add(a: int, b: int) -> int:\n    return a + b\n';
const TEST_CALC = 'import pytest\n\nfrom calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_type():\n    with pytest.raises(TypeError):\n        add(1, None)\n';

let ruff: RuffHost;
beforeAll(() => {
  ruff = RuffHost.start();
});
afterAll(async () => {
  await ruff.close();
});

async function lint(files: SourceFile[], cfg = defaultValidationConfig()) {
  return (await runRuffStages(files, ruff, cfg)).lint;
}

describe('lint stage', () => {
  it('passes clean, formatted code and its tests with no findings', async () => {
    const result = await lint([file('calc.py', CALC), file('test_calc.py', TEST_CALC)]);
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('passed');
    expect(result.summary).toMatch(/^no findings in 2 files \(Ruff \d+\.\d+\.\d+, Code4Py's default rules\)$/);
  });

  it('warns about an unused import at its line and column', async () => {
    const result = await lint([file('calc.py', `import os\n\n\n${CALC}`)]);
    expect(result.status).toBe('warning');
    expect(result.findings).toEqual([
      { path: 'calc.py', line: 1, column: 8, endLine: 1, rule: 'F401', message: '`os` imported but unused', severity: 'warning' },
    ]);
    expect(result.summary).toMatch(/^1 finding in 1 of 1 file /);
  });

  it('reports code that ruff format would change once, at the first changed line, with the diff', async () => {
    const result = await lint([file('calc.py', 'def add(a, b):\n    return a + b\n\n\nx=add(1,2)\n')]);
    expect(result.findings).toHaveLength(1);
    const [finding] = result.findings;
    expect(finding).toMatchObject({ path: 'calc.py', line: 5, rule: 'format', severity: 'warning', message: '`ruff format` would reformat this file (1 line changed)' });
    expect(finding?.details).toContain('-x=add(1,2)\n+x = add(1, 2)');
    expect(finding?.details?.startsWith('--- calc.py\n+++ calc.py\n@@')).toBe(true);
  });

  it('leaves formatting alone when lint.format is false', async () => {
    const result = await lint([file('calc.py', 'x=1\n')], config({ lint: { format: false } }));
    expect(result.findings).toEqual([]);
    expect(result.status).toBe('passed');
  });

  it('fails instead of warning when lint.fail is true', async () => {
    const result = await lint([file('calc.py', 'import os\n')], config({ lint: { fail: true } }));
    expect(result.status).toBe('failed');
    expect(result.findings.map((f) => [f.rule, f.severity])).toEqual([['F401', 'error']]);
  });

  it('checks only the rules in lint.select, at lint.line_length, minus lint.ignore', async () => {
    const text = 'import os\nimport sys\nGREETING = "a string that is longer than forty characters"\n';
    const selected = await lint([file('calc.py', text)], config({ lint: { select: ['E501', 'F401'], line_length: 40, format: false } }));
    expect(selected.findings.map((f) => [f.rule, f.line])).toEqual([
      ['F401', 1],
      ['F401', 2],
      ['E501', 3],
    ]);
    const ignored = await lint([file('calc.py', text)], config({ lint: { select: ['E501', 'F'], ignore: ['F401'], line_length: 40, format: false } }));
    expect(ignored.findings.map((f) => f.rule)).toEqual(['E501']);
  });

  it('skips files with syntax errors, which the syntax stage reports, and checks the rest', async () => {
    const result = await lint([file('broken.py', 'import os\ndef f(:\n    return undefined_name\n'), file('calc.py', 'import os\n')]);
    expect(result.findings.map((f) => [f.path, f.rule])).toEqual([['calc.py', 'F401']]);
    expect(result.summary).toMatch(/^1 finding in 1 of 2 files; 1 with syntax errors not checked /);
  });

  it('notes a Python file that is not UTF-8 without failing, and checks the others', async () => {
    const latin1: SourceFile = { path: 'legacy.py', text: null, bytes: 12 };
    const result = await lint([latin1, file('calc.py', CALC)]);
    expect(result.status).toBe('passed');
    expect(result.findings).toEqual([{ path: 'legacy.py', line: 0, rule: 'not-checked', message: 'not checked: the file is not UTF-8 text', severity: 'info' }]);
    expect(result.summary).toMatch(/^no findings in 1 file /);
  });

  it('leaves flake8-bandit rules to the security stage even when lint.select names them', async () => {
    const stages = await runRuffStages([file('calc.py', 'import os\n\nos.system("ls")\n')], ruff, config({ lint: { select: ['S', 'E', 'F'] } }));
    expect(stages.lint.findings).toEqual([]);
    expect(stages.security.findings.map((f) => f.rule)).toEqual(['S605', 'S607']);
  });

  it("sorts the code's own modules as first-party, so a test importing pytest and the code is not flagged", async () => {
    const result = await lint([file('src/calc/__init__.py', CALC), file('tests/test_calc.py', TEST_CALC)]);
    expect(result.findings).toEqual([]);
  });

  it('is skipped when there are no Python files', async () => {
    const result = await lint([file('README.md', '# hello\n')]);
    expect(result).toMatchObject({ status: 'skipped', summary: 'no Python files', findings: [] });
  });

  it('is an error, with Ruff’s reason, when Ruff refuses lint.select', async () => {
    const stages = await runRuffStages([file('calc.py', CALC)], ruff, config({ lint: { select: ['NOPE'] } }));
    expect(stages.lint.status).toBe('error');
    expect(stages.lint.summary).toContain('Unknown rule selector `NOPE`');
    expect(stages.security.status).toBe('passed');
  });

  it('caps a long formatting diff', () => {
    const before = Array.from({ length: 200 }, (_, i) => `x${i}=${i}`).join('\n') + '\n';
    const after = Array.from({ length: 200 }, (_, i) => `x${i} = ${i}`).join('\n') + '\n';
    const finding = formatFinding('many.py', before, after, 'warning');
    expect(finding.line).toBe(1);
    expect(finding.message).toBe('`ruff format` would reformat this file (200 lines changed)');
    const lines = finding.details?.split('\n') ?? [];
    expect(lines).toHaveLength(81);
    expect(lines.at(-1)).toBe('… 323 more diff lines');
  });

  it('counts instead of diffing a file the formatter rewrites almost whole (a generated table)', () => {
    const header = '# generated\n\n';
    const before = header + Array.from({ length: 6000 }, (_, i) => `    (${i}, 'V', 'x'),`).join('\n') + '\n';
    const after = header + Array.from({ length: 6000 }, (_, i) => `    (${i}, "V", "x"),`).join('\n') + '\n';
    const finding = formatFinding('idnadata.py', before, after, 'warning');
    expect(finding.line).toBe(3);
    expect(finding.message).toBe('`ruff format` would reformat this file (about 6000 lines changed)');
    expect(finding.details).toBe('The diff is too large to show here (more than 1000 lines differ): run `ruff format --diff idnadata.py` to see it.');
  });
});

const REQUEST: RuffRequest = {
  files: [{ path: 'a.py', text: 'import os\n' }],
  passes: [{ options: { lint: { select: ['F401'] } }, paths: ['a.py'], format: false }],
};

/** The real worker script, run from its TypeScript source through tsx (Node 20 workers cannot load .ts). */
function tsWorker(): URL {
  const api = new URL('../../node_modules/tsx/dist/esm/api/index.mjs', import.meta.url).href;
  const worker = new URL('../../src/validate/ruff/ruff-worker.ts', import.meta.url).href;
  return script(`import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(worker)});`);
}

function script(source: string): URL {
  return new URL(`data:text/javascript,${encodeURIComponent(source)}`);
}

/** A worker that answers like Ruff's, except that it exits when asked to check `crash.py`. */
const FLAKY = script(`
  import { parentPort } from 'node:worker_threads';
  parentPort.on('message', ({ id, request }) => {
    if (request.files[0].path === 'crash.py') process.exit(3);
    parentPort.postMessage({ id, ok: true, response: { version: 'fake', passes: [] } });
  });`);

describe('Ruff host', () => {
  it('runs Ruff in-process when there is no compiled worker script (TypeScript sources)', async () => {
    expect(ruff.mode).toBe('in-process');
    const response = await ruff.lint(REQUEST);
    expect(response.passes).toEqual([{ ok: true, files: [expect.objectContaining({ path: 'a.py', error: null, formatted: null })] }]);
  });

  it.each([true, false])('runs the worker script in a worker thread with the same answers as in-process (warm-up: %s)', async (warmUp) => {
    const host = RuffHost.start({ worker: tsWorker(), warmUp });
    try {
      expect(host.mode).toBe('worker');
      const [inWorker, inProcess] = await Promise.all([host.lint(REQUEST), ruff.lint(REQUEST)]);
      expect(inWorker).toEqual(inProcess);
      expect(inWorker.passes[0]).toMatchObject({ ok: true, files: [{ diagnostics: [{ code: 'F401', start_location: { row: 1, column: 8 } }] }] });
    } finally {
      await host.close();
    }
  });

  it('tells its worker to warm up unless asked not to', async () => {
    const echo = script(`
      import { parentPort, workerData } from 'node:worker_threads';
      parentPort.on('message', ({ id }) => parentPort.postMessage({ id, ok: false, error: JSON.stringify(workerData) }));`);
    for (const [options, expected] of [[{}, { warmUp: true }], [{ warmUp: false }, { warmUp: false }]] as const) {
      const host = RuffHost.start({ worker: echo, ...options });
      try {
        const told = await host.lint(REQUEST).then(() => null, (error: Error) => JSON.parse(error.message.replace(/^[^{]*/, '')) as unknown);
        expect(told).toEqual(expected);
      } finally {
        await host.close();
      }
    }
  });

  it('rejects with the error when the worker crashes', async () => {
    const host = RuffHost.start({ worker: script('throw new Error("the wasm would not load")') });
    await expect(host.lint(REQUEST)).rejects.toThrow("Ruff's worker crashed: the wasm would not load");
    await host.close();
  });

  it('rejects when the worker exits, and starts a new worker for the next request', async () => {
    const host = RuffHost.start({ worker: FLAKY });
    try {
      await expect(host.lint({ files: [{ path: 'crash.py', text: '' }], passes: [] })).rejects.toThrow("Ruff's worker stopped unexpectedly (exit code 3)");
      await expect(host.lint(REQUEST)).resolves.toEqual({ version: 'fake', passes: [] });
    } finally {
      await host.close();
    }
  });

  it('stops a worker that takes too long', async () => {
    const host = RuffHost.start({ worker: script('setInterval(() => {}, 1000)'), timeoutMs: 200 });
    await expect(host.lint(REQUEST)).rejects.toThrow('Ruff took longer than 200 ms and was stopped');
    await host.close();
  });

  it('rejects a reply that is not in the protocol', async () => {
    const host = RuffHost.start({ worker: script(`import { parentPort } from 'node:worker_threads'; parentPort.on('message', () => parentPort.postMessage({ hello: 1 }));`) });
    await expect(host.lint(REQUEST)).rejects.toThrow("Ruff's worker sent a malformed reply");
    await host.close();
  });

  it('rejects requests still running, and later ones, once closed', async () => {
    const host = RuffHost.start({ worker: script('setInterval(() => {}, 1000)') });
    const running = expect(host.lint(REQUEST)).rejects.toThrow('Ruff was stopped before it finished');
    await host.close();
    await running;
    await expect(host.lint(REQUEST)).rejects.toThrow('after its host was closed');
  });
});
