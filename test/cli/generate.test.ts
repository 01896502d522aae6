import { spawn } from 'node:child_process';
import { readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Solution } from '../../src/llm/index.js';
import { runCli } from '../helpers/cli.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { MEDIAN_ANALYSIS, MEDIAN_SOLUTION, STATS_PY } from '../helpers/median.js';
import { makeProject, useTempDirs } from '../helpers/project.js';
import { usePackageIndex } from '../helpers/use-package-index.js';

const API_KEY = 'sk-test-generate-0123456789abcdefghijk';

const GOOD: Solution = { ...MEDIAN_SOLUTION, dependencies: ['PyYAML>=6', 'Requests', '--index-url http://evil.example/simple'] };
const WRONG: Solution = { ...GOOD, files: [{ path: 'stats.py', content: 'def median(values):\n    return sorted(values)[len(values) // 2]\n', patch: null }, GOOD.files[1]!] };

const REPO = {
  'calc.py': 'def add(a: int, b: int) -> int:\n    """Add two numbers."""\n    return a + b\n',
  'test_calc.py': 'from calc import add\n\n\ndef test_add():\n    assert add(1, 2) == 3\n',
  'requirements.txt': 'requests==2.31\n',
};

// The checkout's requirements and the solution's are installed before the tests run: from an index on loopback.
const REQUESTS = { name: 'requests', version: '2.31.0', files: { 'requests/__init__.py': '__version__ = "2.31.0"\n' } };
const PYYAML = { name: 'PyYAML', version: '6.0.1', files: { 'yaml/__init__.py': '__version__ = "6.0.1"\n' } };
const packages = usePackageIndex([REQUESTS, PYYAML]);

const { tempDir, onCleanup } = useTempDirs();
let server: FakeModelServer;
beforeEach(async () => {
  server = await new FakeModelServer().start();
});
afterEach(async () => {
  await server.stop();
});

async function repo(files: Record<string, string> = REPO): Promise<string> {
  const project = await makeProject(files);
  onCleanup(project.cleanup);
  return project.dir;
}

function folder(): Promise<string> {
  return tempDir('code4py-out-test-');
}

function code4py(args: string[], env: NodeJS.ProcessEnv = { ...process.env, OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: API_KEY, CODE4PY_PIP_INDEX_URL: packages.index.url, CODE4PY_CACHE_DIR: packages.cacheDir }) {
  return runCli(args, env);
}

/** The folder the summary says the files went to (removed after the test). */
function writtenTo(stdout: string): string {
  const dir = /^Files written to (.+):$/m.exec(stdout)?.[1];
  if (!dir) throw new Error(`no "Files written to" line in:\n${stdout}`);
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

const MERGED_REQUIREMENTS = 'requests==2.31\nPyYAML>=6\n';

describe('code4py generate on a local checkout', () => {
  it('writes the code, its tests and the requirements to a new folder, prints the pull request and the validation, and exits 0', async () => {
    server.script('code4py_analysis', MEDIAN_ANALYSIS).script('code4py_solution', GOOD);
    const checkout = await repo();
    const run = await code4py(['generate', 'Add a median(values) function', '--repo', checkout]);

    expect(run.code, run.stderr).toBe(0);
    const out = writtenTo(run.stdout);
    expect((await readdir(out)).sort()).toEqual(['requirements.txt', 'stats.py', 'test_stats.py']);
    expect(await readFile(join(out, 'stats.py'), 'utf8')).toBe(STATS_PY);
    // The solution's dependencies, merged into the checkout's requirements: Requests is already there.
    expect(await readFile(join(out, 'requirements.txt'), 'utf8')).toBe(MERGED_REQUIREMENTS);
    // The checkout itself is untouched.
    expect((await readdir(checkout)).sort()).toEqual(['calc.py', 'requirements.txt', 'test_calc.py']);
    expect(await readFile(join(checkout, 'requirements.txt'), 'utf8')).toBe(REPO['requirements.txt']);

    expect(run.stdout).toContain("Code4Py's change: Add a median function");
    expect(run.stdout).toContain('Requirements understood:\n  - median of a non-empty list of numbers');
    expect(run.stdout).toContain('Not written (the model proposed them, but they were refused):\n  requirements.txt: the dependency "--index-url http://evil.example/simple" was not added: a pip option, not a requirement');
    expect(run.stdout).toMatch(/^Model: gpt-4o-mini, \d+ tokens \(\d+ prompt, \d+ completion\) in 2 calls; 1 attempt$/m);
    // Text for a terminal: none of the pull request's markdown, HTML, escapes or GitHub commands.
    expect(run.stdout).not.toMatch(/<\/?(details|summary)>|^#+ |`(stats|requirements)\.|\\[_*[\]()#<>-]|\/code4py (retry|refine|cancel|help)|Closes #/m);
    expect(run.stdout).toMatch(/ {2}added {5}stats\.py\n {2}added {5}test_stats\.py\n {2}added {5}requirements\.txt/);
    expect(run.stdout.trim().split('\n').at(-1)).toMatch(/^PASSED: 4 passed, 0 failed/);
    expect(run.stderr).toContain('code4py: understood: "Add a median function" (module stats, 2 requirements)');
    expect(run.stderr).toContain('code4py: attempt 1: validation passed; tests 4 passed, 0 failed');
    // What the model was shown: the task and the checkout's code, never the key.
    expect(server.bodies[1]).toContain('median(values)');
    expect(server.bodies[1]).toContain('calc.py');
    for (const body of server.bodies) expect(body).not.toContain(API_KEY);
  });

  it('refuses to write into a folder that has files without --write, before asking the model anything', async () => {
    const out = await folder();
    await writeFile(join(out, 'stats.py'), '# mine\n');
    const run = await code4py(['generate', 'Add a median function', '--repo', await repo(), '--out', out]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`code4py: --out ${out} is not empty. Code4Py writes into a new or empty folder, and replaces files only with --write`);
    expect(server.bodies).toEqual([]);
    expect(await readFile(join(out, 'stats.py'), 'utf8')).toBe('# mine\n');
  });

  it('says the passing attempt had its tests strengthened, and prints no strengthening round as an attempt of its own', async () => {
    const ages = 'def is_adult(age: int) -> bool:\n    """Whether a person of this age is an adult (18 or older)."""\n    return age >= 18\n';
    const weak = 'from ages import is_adult\n\n\ndef test_grown_up():\n    assert is_adult(40)\n\n\ndef test_child():\n    assert not is_adult(7)\n';
    const strong = `${weak}\n\ndef test_the_day_one_turns_18():\n    assert is_adult(18)\n    assert not is_adult(17)\n`;
    server
      .script('code4py_analysis', { ...MEDIAN_ANALYSIS, title: 'Add is_adult()', module: 'ages', requirements: ['is_adult(age) is true from 18 on'] })
      .script('code4py_solution', { summary: 'is_adult()', files: [{ path: 'ages.py', content: ages, patch: null }, { path: 'test_ages.py', content: weak, patch: null }], dependencies: [] })
      .script('code4py_strengthen', { summary: 'boundary tests', files: [{ path: 'test_ages.py', content: strong, patch: null }], dependencies: [] });
    const run = await code4py(['generate', 'Add is_adult(age): true from 18 on', '--repo', await repo()]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('code4py: attempt 1: validation passed; tests 3 passed, 0 failed');
    expect(run.stderr).toMatch(/code4py: attempt 1: tests strengthened; mutation score [\d.]+% → 100%; tests 4 passed, 0 failed/);
    expect(run.stderr).not.toMatch(/attempt 2/);
    expect(run.stdout).toMatch(/; 1 attempt$/m);
    expect(await readFile(join(writtenTo(run.stdout), 'test_ages.py'), 'utf8')).toContain('def test_the_day_one_turns_18');
  });

  it('asks for no strengthening round, and says nothing of one, when the tests already kill every mutant', async () => {
    const ages = 'def is_adult(age: int) -> bool:\n    """Whether a person of this age is an adult (18 or older)."""\n    return age >= 18\n';
    const strong = 'from ages import is_adult\n\n\ndef test_the_day_one_turns_18():\n    assert is_adult(18)\n    assert not is_adult(17)\n';
    server
      .script('code4py_analysis', { ...MEDIAN_ANALYSIS, title: 'Add is_adult()', module: 'ages', requirements: ['is_adult(age) is true from 18 on'] })
      .script('code4py_solution', { summary: 'is_adult()', files: [{ path: 'ages.py', content: ages, patch: null }, { path: 'test_ages.py', content: strong, patch: null }], dependencies: [] });
    const run = await code4py(['generate', 'Add is_adult(age): true from 18 on', '--repo', await repo()]);

    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('code4py: attempt 1: validation passed; tests 2 passed, 0 failed');
    expect(run.stderr).not.toContain('strengthened');
    expect(server.prompts('code4py_strengthen')).toEqual([]);
  });

  it('applies the change to the checkout itself with --write', async () => {
    server.script('code4py_analysis', MEDIAN_ANALYSIS).script('code4py_solution', GOOD);
    const checkout = await repo();
    const run = await code4py(['generate', 'Add a median function', '--repo', checkout, '--write']);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Files written to ${checkout}:`);
    expect(run.stdout).toContain('  replaced  requirements.txt');
    expect(await readFile(join(checkout, 'stats.py'), 'utf8')).toBe(STATS_PY);
    expect(await readFile(join(checkout, 'requirements.txt'), 'utf8')).toBe(MERGED_REQUIREMENTS);
  });

  it('prints the clarifying questions and exits 1 without writing; --answer goes on with the answer', async () => {
    const vague = { ...MEDIAN_ANALYSIS, needs_clarification: true, questions: ['Mean or median?', 'What about empty lists?'] };
    server.script('code4py_analysis', vague, vague).script('code4py_solution', GOOD);
    const checkout = await repo();
    const asked = await code4py(['generate', 'Add an average function', '--repo', checkout]);
    expect(asked.code).toBe(1);
    expect(asked.stdout).toContain('Code4Py needs to know more before it writes code:\n\n1. Mean or median?\n2. What about empty lists?');
    expect(asked.stdout).toContain('--answer "your answer"');
    expect(asked.stdout).not.toContain('Files written');
    expect(server.remaining('code4py_solution')).toBe(1);

    const answered = await code4py(['generate', 'Add an average function', '--repo', checkout, '--answer', 'The median, please.']);
    expect(answered.code).toBe(0);
    writtenTo(answered.stdout);
    expect(server.bodies.at(-1)).toContain('The median, please.');
  });

  it('exits 1 when no attempt passes, and never replaces files with failing code', async () => {
    server.script('code4py_analysis', MEDIAN_ANALYSIS, MEDIAN_ANALYSIS).script('code4py_solution', WRONG, WRONG);
    const checkout = await repo();
    const out = join(await folder(), 'new');
    const failed = await code4py(['generate', 'Add a median function', '--repo', checkout, '--attempts', '1', '--out', out]);
    expect(failed.code).toBe(1);
    expect(failed.stdout.trim().split('\n').at(-1)).toMatch(/^FAILED: 2 passed, 2 failed/);
    expect(failed.stdout).toContain('test_stats.py::test_even');
    // A new folder: the failing attempt is there to look at.
    expect((await readdir(out)).sort()).toEqual(['requirements.txt', 'stats.py', 'test_stats.py']);

    const inPlace = await code4py(['generate', 'Add a median function', '--repo', checkout, '--attempts', '1', '--write']);
    expect(inPlace.code).toBe(1);
    expect(inPlace.stdout).toContain(`Nothing was written: validation failed, so the files in ${checkout} were left as they are`);
    expect((await readdir(checkout)).sort()).toEqual(['calc.py', 'requirements.txt', 'test_calc.py']);
    expect(await readFile(join(checkout, 'requirements.txt'), 'utf8')).toBe(REPO['requirements.txt']);
  });

  it('reads the task from --issue-file: a title line, then the description', async () => {
    server.script('code4py_analysis', MEDIAN_ANALYSIS).script('code4py_solution', GOOD);
    const issue = join(await folder(), 'issue.md');
    await writeFile(issue, '# Median\n\nAdd `median(values)`; raise ValueError on an empty list.\n');
    const run = await code4py(['generate', '--issue-file', issue, '--repo', await repo()]);
    expect(run.code).toBe(0);
    writtenTo(run.stdout);
    expect(server.bodies[0]).toContain('# Median\\n\\nAdd `median(values)`; raise ValueError on an empty list.');
  });

  it('records the exchanges, and replays them with nothing sent', async () => {
    server.script('code4py_analysis', MEDIAN_ANALYSIS).script('code4py_solution', GOOD);
    const checkout = await repo();
    const transcript = join(await folder(), 'generate.jsonl');
    const recorded = await code4py(['generate', 'Add a median function', '--repo', checkout, '--record', transcript]);
    expect(recorded.code).toBe(0);
    writtenTo(recorded.stdout);
    await server.stop();

    const replayed = await code4py(['generate', 'Add a median function', '--repo', checkout, '--replay', transcript], { ...process.env, OPENAI_API_KEY: '', CODE4PY_PIP_INDEX_URL: packages.index.url, CODE4PY_CACHE_DIR: packages.cacheDir });
    expect(replayed.code).toBe(0);
    expect(await readFile(join(writtenTo(replayed.stdout), 'stats.py'), 'utf8')).toBe(STATS_PY);
    expect(server.bodies).toHaveLength(2);

    const other = await code4py(['generate', 'Add a mode function', '--repo', checkout, '--replay', transcript]);
    expect(other.code).toBe(2);
    expect(other.stderr).toContain(`code4py: no exchange in ${transcript} answers this request (POST chat/completions, model "gpt-4o-mini", answer code4py_analysis)`);
  });
});

describe('code4py generate interrupted', () => {
  it('stops the sandbox on Ctrl-C, writes nothing, leaves nothing behind and exits 2', async () => {
    const slow: Solution = { ...GOOD, files: [GOOD.files[0]!, { path: 'test_slow.py', content: 'import time\n\n\ndef test_slow():\n    time.sleep(60)\n', patch: null }] };
    server.script('code4py_analysis', MEDIAN_ANALYSIS).script('code4py_solution', slow);
    const tmp = await folder();
    // The CLI from source, in its own process with its own TMPDIR, so that Ctrl-C is a real SIGINT.
    const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli.ts'), 'generate', 'Add a median function', '--repo', await repo()], {
      env: { ...process.env, TMPDIR: tmp, OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: API_KEY, CODE4PY_PIP_INDEX_URL: packages.index.url, CODE4PY_CACHE_DIR: packages.cacheDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    let stdout = '';
    let interrupted = false;
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (!interrupted && stderr.includes('attempt 1 of 3')) {
        interrupted = true;
        // Half a second on, the sandbox is running the test that sleeps.
        setTimeout(() => child.kill('SIGINT'), 500);
      }
    });
    const started = Date.now();
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect(stderr).toContain('code4py: interrupted; nothing was written');
    expect(stdout).toBe('');
    // No work folder, no output folder: only tsx's own compile cache.
    expect((await readdir(tmp)).filter((name) => !name.startsWith('tsx-'))).toEqual([]);
  }, 60_000);
});

describe('code4py generate with bad arguments', () => {
  it.each([
    [['generate'], /say what to build: code4py generate "Add a median\(values\) function to stats\.py", or --issue-file FILE/],
    [['generate', 'Add x', '--issue-file', 'issue.md'], /give the task as the argument or with --issue-file FILE, not both/],
    [['generate', 'Add x', '--attempts', '11'], /option '--attempts <k>' argument '11' is invalid\. give a whole number from 1 to 10, e\.g\. --attempts 3/],
    [['generate', 'Add x', '--repo', '/no/such/folder'], /--repo \/no\/such\/folder is not a folder/],
    [['generate', '--issue-file', '/no/such/issue.md'], /cannot read the issue file \/no\/such\/issue\.md: ENOENT/],
    [['generate', 'Add x', '--answer', '  '], /--answer: an --answer must not be empty/],
    [['generate', 'Add x', '--frobnicate'], /error: unknown option '--frobnicate'/],
  ])('%j exits 2 and says what was wrong', async (args, message) => {
    const run = await code4py([...args, ...(args.includes('--repo') ? [] : ['--repo', await repo()])]);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(server.bodies).toEqual([]);
  });

  it('says what is wrong with a checkout config file', async () => {
    const checkout = await repo({ ...REPO, '.github/code4py.yml': 'max_attempt: 3\n' });
    const run = await code4py(['generate', 'Add x', '--repo', checkout]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('.github/code4py.yml has settings Code4Py cannot use:\n  - (top level): Unrecognized key: "max_attempt" (max_attempt)');
  });
});
