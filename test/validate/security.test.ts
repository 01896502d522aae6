import { PositionEncoding, Workspace } from '@astral-sh/ruff-wasm-nodejs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultValidationConfig, ValidationConfigSchema, type ValidationConfig } from '../../src/config/schema.js';
import { RuffHost } from '../../src/validate/ruff/ruff-host.js';
import type { SourceFile } from '../../src/validate/source.js';
import { runRuffStages } from '../../src/validate/stages/lint.js';
import { BANDIT_LEVELS, banditLevel } from '../../src/validate/stages/security-levels.js';

const file = (path: string, text: string): SourceFile => ({ path, text, bytes: Buffer.byteLength(text) });
const config = (overrides: Record<string, unknown> = {}): ValidationConfig => ValidationConfigSchema.parse(overrides);

let ruff: RuffHost;
beforeAll(() => {
  ruff = RuffHost.start();
});
afterAll(async () => {
  await ruff.close();
});

async function security(files: SourceFile[], cfg = defaultValidationConfig()) {
  return (await runRuffStages(files, ruff, cfg)).security;
}

const SHELL = 'import subprocess\nimport sys\n\nsubprocess.run("grep " + sys.argv[1], shell=True, check=True)\n';

describe('security stage', () => {
  it('passes code with nothing to report', async () => {
    const result = await security([file('calc.py', 'def add(a, b):\n    return a + b\n')]);
    expect(result).toMatchObject({ status: 'passed', findings: [] });
    expect(result.summary).toMatch(/^no findings in 1 file \(Ruff /);
  });

  it('fails on subprocess with shell=True at the default level', async () => {
    const result = await security([file('run.py', SHELL)]);
    expect(result.status).toBe('failed');
    expect(result.findings).toEqual([
      {
        path: 'run.py',
        line: 4,
        column: 1,
        endLine: 4,
        rule: 'S602',
        message: '[high] `subprocess` call with `shell=True` identified, security issue',
        severity: 'error',
      },
    ]);
    expect(result.summary).toMatch(/^1 finding \(1 high\) in 1 of 1 file; failing at medium and above/);
  });

  it('ignores the code\'s own suppression comments, keeping every position', async () => {
    const silenced = SHELL.replace('check=True)', 'check=True)  # noqa: S602') + 'x = eval("1")  # ruff: noqa\n';
    const result = await security([file('run.py', `# ruff: noqa\n${silenced}`)]);
    expect(result.status).toBe('failed');
    expect(result.findings.map((f) => [f.rule, f.line, f.column])).toEqual([
      ['S602', 5, 1],
      ['S307', 6, 5],
    ]);
  });

  it('lets a maintainer waive a rule with security.ignore', async () => {
    const result = await security([file('run.py', SHELL)], config({ security: { ignore: ['S602'] } }));
    expect(result.status).toBe('passed');
  });

  it('rates a shell command written as a literal low, as bandit does', async () => {
    const result = await security([file('run.py', 'import subprocess\n\nsubprocess.run("/bin/ls -l", shell=True, check=True)\n')]);
    expect(result.findings.map((f) => [f.rule, f.severity, f.message])).toEqual([
      ['S602', 'warning', '[low] `subprocess` call with `shell=True` seems safe, but may be changed in the future; consider rewriting without `shell`'],
    ]);
    expect(result.status).toBe('warning');
  });

  it('warns below security.fail_on and fails at or above it', async () => {
    const code = [file('pick.py', 'import random\n\n\ndef pick(items):\n    return random.choice(items)\n')];
    const lenient = await security(code);
    expect(lenient.findings.map((f) => [f.rule, f.line, f.severity, f.message.slice(0, 6)])).toEqual([['S311', 5, 'warning', '[low] ']]);
    expect(lenient.status).toBe('warning');

    const strict = await security(code, config({ security: { fail_on: 'low' } }));
    expect(strict.findings.map((f) => [f.rule, f.severity])).toEqual([['S311', 'error']]);
    expect(strict.status).toBe('failed');

    const high = await security([file('calc.py', 'def calc(text):\n    return eval(text)\n')], config({ security: { fail_on: 'high' } }));
    expect(high.findings.map((f) => [f.rule, f.severity, f.message.slice(0, 9)])).toEqual([['S307', 'warning', '[medium] ']]);
    expect(high.status).toBe('warning');
  });

  it('leaves out the rules in security.ignore', async () => {
    const result = await security([file('pick.py', 'import random\n\nx = random.random()\n')], config({ security: { ignore: ['S311'] } }));
    expect(result).toMatchObject({ status: 'passed', findings: [] });
  });

  it('does not flag assert in test files, but does in the code', async () => {
    const result = await security([
      file('calc.py', 'def half(n):\n    assert n % 2 == 0\n    return n // 2\n'),
      file('tests/test_calc.py', 'from calc import half\n\n\ndef test_half():\n    assert half(4) == 2\n'),
      file('conftest.py', 'def check(x):\n    assert x\n'),
    ]);
    expect(result.findings.map((f) => [f.path, f.line, f.rule, f.severity])).toEqual([['calc.py', 2, 'S101', 'warning']]);
  });

  it('still applies the other security rules to test files', async () => {
    const result = await security([file('test_run.py', `${SHELL}\n\ndef test_run():\n    assert True\n`)]);
    expect(result.findings.map((f) => [f.path, f.rule])).toEqual([['test_run.py', 'S602']]);
  });

  it('checks the security rules whatever lint.select says', async () => {
    const result = await security([file('run.py', SHELL)], config({ lint: { select: ['E'] } }));
    expect(result.findings.map((f) => f.rule)).toEqual(['S602']);
  });

  it('skips files with syntax errors, which the syntax stage reports', async () => {
    const result = await security([file('broken.py', `${SHELL}def f(:\n`), file('calc.py', 'x = 1\n')]);
    expect(result.findings).toEqual([]);
    expect(result.summary).toMatch(/^no findings in 2 files; 1 with syntax errors not checked/);
  });

  it('says that a file which is not UTF-8 was not checked', async () => {
    const result = await security([{ path: 'legacy.py', text: null, bytes: 3 }, file('calc.py', 'x = 1\n')]);
    expect(result.status).toBe('passed');
    expect(result.summary).toMatch(/^no findings in 1 file; 1 not UTF-8, not checked/);
  });

  it('is an error, not a pass, when Ruff cannot run', async () => {
    const broken = { lint: () => Promise.reject(new Error("Ruff's worker crashed: out of memory")) };
    const stages = await runRuffStages([file('run.py', SHELL)], broken, defaultValidationConfig());
    expect(stages.security).toMatchObject({ status: 'error', summary: "Ruff's worker crashed: out of memory" });
    expect(stages.lint.status).toBe('error');
  });
});

describe("bandit's levels", () => {
  it("knows bandit's level for every security rule this Ruff has", () => {
    const rules: string[] = [];
    for (let n = 100; n < 1000; n++) {
      try {
        new Workspace({ lint: { select: [`S${n}`] } }, PositionEncoding.Utf16).free();
        rules.push(`S${n}`);
      } catch {
        // Not a rule in this version.
      }
    }
    expect(rules.length).toBeGreaterThan(60);
    expect(rules.filter((rule) => !(rule in BANDIT_LEVELS))).toEqual([]);
  });

  it('rates an unknown rule medium', () => {
    expect(banditLevel('S999', 'something new')).toBe('medium');
    expect(banditLevel('S605', 'Starting a process with a shell, possible injection detected')).toBe('high');
  });
});
