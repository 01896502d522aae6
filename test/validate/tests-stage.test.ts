import { beforeAll, describe, expect, it } from 'vitest';
import { getSandbox, type ReadySandbox } from '../../src/sandbox/select.js';
import { runTests } from '../../src/validate/stages/tests.js';
import { writeWorkspace } from '../../src/validate/workspace.js';
import { GOOD_PROJECT } from '../helpers/project.js';

let ready: ReadySandbox;
beforeAll(async () => {
  ready = await getSandbox('bwrap');
});

async function run(files: Record<string, string>, timeoutSeconds = 30) {
  const ws = await writeWorkspace(Object.entries(files).map(([path, text]) => ({ path, content: Buffer.from(text) })));
  try {
    return await runTests(ready.sandbox, ws.root, [], timeoutSeconds);
  } finally {
    await ws.dispose();
  }
}

describe('tests stage', () => {
  it('passes a project whose tests pass, with one result per test', async () => {
    const result = await run(GOOD_PROJECT);
    expect(result.tests.status).toBe('passed');
    expect(result.counts).toEqual({ passed: 2, failed: 0, errors: 0, skipped: 0, timedOut: false });
    expect(result.cases.map((c) => c.id)).toEqual(['test_calc.py::test_add', 'test_calc.py::test_sub']);
    expect(result.coverageJson).toContain('"calc.py"');
  });

  it('reports a failing test with its name, the assertion text, the failing line and a short traceback', async () => {
    const result = await run({
      'calc.py': 'def add(a, b):\n    return a - b\n',
      'tests/test_calc.py': 'from calc import add\n\n\nclass TestAdd:\n    def test_ok(self):\n        assert add(2, 0) == 2\n\n    def test_bad(self):\n        total = add(1, 2)\n        assert total == 3\n',
    });
    expect(result.tests.status).toBe('failed');
    expect(result.counts).toMatchObject({ passed: 1, failed: 1 });
    const [finding] = result.tests.findings;
    expect(finding).toMatchObject({ path: 'tests/test_calc.py', line: 10, rule: 'test-failed', severity: 'error' });
    expect(finding?.message).toContain('tests/test_calc.py::TestAdd::test_bad failed: assert -1 == 3');
    expect(finding?.details).toContain('tests/test_calc.py:10: in test_bad');
  });

  it('counts an error in a fixture or at import as an error, not a pass', async () => {
    const result = await run({
      'test_broken.py': 'import pytest\n\n\n@pytest.fixture\ndef data():\n    raise RuntimeError("no data")\n\n\ndef test_uses(data):\n    assert data\n',
    });
    expect(result.tests.status).toBe('failed');
    expect(result.counts.errors).toBe(1);
    expect(result.tests.findings[0]?.message).toContain('RuntimeError');
  });

  it('fails when there are no tests at all, saying how to add them', async () => {
    const result = await run({ 'calc.py': 'X = 1\n' });
    expect(result.tests.status).toBe('failed');
    expect(result.tests.findings[0]).toMatchObject({ rule: 'no-tests' });
    expect(result.tests.findings[0]?.message).toMatch(/add test_\*\.py files/);
  });

  it('kills a hanging test at the timeout and names the test that hung', async () => {
    const result = await run({ 'test_slow.py': 'import time\n\n\ndef test_fast():\n    assert True\n\n\ndef test_hangs():\n    time.sleep(60)\n' }, 2);
    expect(result.counts.timedOut).toBe(true);
    expect(result.tests.status).toBe('error');
    // The test that finished before the time ran out is still counted, from the progress the run wrote.
    expect(result.counts.passed).toBe(1);
    expect(result.tests.summary).toBe('the test run timed out after 2 s; 1 passed, 0 failed before that');
    const timeout = result.tests.findings.find((f) => f.rule === 'timeout');
    expect(timeout?.message).toContain('timed out after 2 s while running test_slow.py::test_hangs');
  });

  it('reports skipped tests as skipped', async () => {
    const result = await run({ 'test_skip.py': 'import pytest\n\n\n@pytest.mark.skip(reason="later")\ndef test_later():\n    pass\n\n\ndef test_now():\n    assert 1\n' });
    expect(result.counts).toMatchObject({ passed: 1, skipped: 1 });
    expect(result.tests.status).toBe('passed');
  });

  it('does not take results from a junit.xml the code under test wrote into its own folder', async () => {
    const fake = '<testsuites><testsuite><testcase classname="x" name="test_fake" file="x.py" line="0"/></testsuite></testsuites>';
    const result = await run({ 'junit.xml': fake, 'test_real.py': `open("junit.xml", "w").write(${JSON.stringify(fake)})\n\n\ndef test_real():\n    assert False\n` });
    expect(result.cases.map((c) => c.id)).toEqual(['test_real.py::test_real']);
    expect(result.tests.status).toBe('failed');
  });

  it('runs without the plugins that happen to be installed, and without the network', async () => {
    const result = await run({
      'test_env.py': 'import os, socket\n\n\ndef test_env():\n    assert os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] == "1"\n    assert [name for _, name in socket.if_nameindex()] == ["lo"]\n',
    });
    expect(result.tests.status).toBe('passed');
  });
});

describe('JUnit XML', () => {
  it('decodes the character references pytest writes for newlines and other characters in messages', async () => {
    const { parseJunit } = await import('../../src/validate/stages/junit.js');
    const junit = await parseJunit(
      '<testsuites><testsuite name="pytest"><testcase classname="test_a" name="test_x" time="0.1"><failure message="assert 1 == 2&#10;  where 1 = f()">E  &lt;diff&gt;&#10;line two</failure></testcase></testsuite></testsuites>',
    );
    const cases = junit!.cases;
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({ outcome: 'failed', message: 'assert 1 == 2\n  where 1 = f()' });
    expect(cases[0]!.details).toContain('E  <diff>\nline two');
  });

  it('keeps every readable entry when one cannot be read, and says which one could not', async () => {
    const { parseJunit } = await import('../../src/validate/stages/junit.js');
    const junit = await parseJunit(
      '<testsuites><testsuite name="pytest">' +
        '<testcase classname="tests.test_a" name="test_one" file="tests/test_a.py" line="3" time="0.1"/>' +
        '<testcase classname="tests.test_threads" file="tests/test_threads.py" time="0.2"/>' +
        '<testcase classname="tests.test_a" name="test_two" file="tests/test_a.py" line="7" time="0.1"><failure message="boom">E boom</failure></testcase>' +
        '</testsuite></testsuites>',
    );
    expect(junit!.cases.map((c) => [c.id, c.outcome])).toEqual([
      ['tests/test_a.py::test_one', 'passed'],
      ['tests/test_a.py::test_two', 'failed'],
    ]);
    expect(junit!.problems).toEqual([expect.stringMatching(/^JUnit entry 2 of its suite could not be read \(tests\.test_threads, tests\/test_threads\.py: name/)]);
  });

  it('reads a bare <testsuite> document too, and gives null for one that is not JUnit', async () => {
    const { parseJunit } = await import('../../src/validate/stages/junit.js');
    const bare = await parseJunit('<testsuite name="x"><testcase classname="t" name="test_a" file="t.py"/></testsuite>');
    expect(bare!.cases.map((c) => c.id)).toEqual(['t.py::test_a']);
    expect(await parseJunit('<html><body>not junit</body></html>')).toBeNull();
    expect(await parseJunit('<<<')).toBeNull();
  });
});
