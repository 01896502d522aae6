import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { ReportSchema } from '../../src/validate/report.js';
import { ensureBuilt, runBin, type BinRun } from '../helpers/cli-bin.js';
import { ADD_MEAN, DEBT_LIBRARY } from '../helpers/debt-library.js';
import { fixtureRepo, type FixtureRepo } from '../helpers/fixture-repo.js';
import { makeProject, useTempDirs } from '../helpers/project.js';

beforeAll(() => {
  ensureBuilt();
});

const { tempDir, onCleanup } = useTempDirs();

async function repo(options: Parameters<typeof fixtureRepo>[0]): Promise<FixtureRepo> {
  const r = await fixtureRepo(options);
  onCleanup(r.cleanup);
  return r;
}

/** `code4py ARGS` as a new process, with a private TMPDIR and cache folder. */
async function code4py(args: string[]): Promise<BinRun & { cache: string[] }> {
  const tmp = await tempDir('code4py-cli-tmp-');
  const cache = await tempDir('code4py-cli-cache-');
  const run = await runBin(args, { ...process.env, TMPDIR: tmp, CODE4PY_CACHE_DIR: cache });
  return { ...run, cache: await readdir(join(cache, 'baselines')).catch(() => []) };
}

describe('code4py validate --base', () => {
  it('judges the working tree as a change on top of the commit: a correct change exits 0 with the change-scoped report', async () => {
    const r = await repo({ commits: [DEBT_LIBRARY], working: ADD_MEAN });
    const run = await code4py(['validate', r.dir, '--base', 'HEAD', '--json']);
    expect(run.code).toBe(0);
    const report = ReportSchema.parse(JSON.parse(run.stdout));
    expect(report.base).toBe(r.commits[0]);
    expect(report.tests.stillFailing).toEqual(['tests/test_core.py::test_evaluate_is_known_broken']);
    expect(report.evidence?.map((e) => [e.base, e.head])).toEqual([['error', 'passed'], ['error', 'passed']]);
    expect(run.cache).toHaveLength(1);
    expect(run.stderr).toContain(`against HEAD (${r.commits[0]!.slice(0, 12)}`);
  });

  it('exits 1 on a committed change that breaks the code, judged against an earlier commit', async () => {
    const broken = DEBT_LIBRARY['mathlib/core.py']!.replace('return a + b', 'return a * b');
    const r = await repo({ commits: [DEBT_LIBRARY, { 'mathlib/core.py': broken, ...ADD_MEAN }] });
    const run = await code4py(['validate', r.dir, '--base', 'HEAD~1']);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('2 regressed');
  });

  it('exits 2 with a clear message when the folder is not a git checkout or the commit does not exist', async () => {
    const plain = await makeProject({ 'a.py': 'X = 1\n' });
    onCleanup(plain.cleanup);
    const notGit = await code4py(['validate', plain.dir, '--base', 'main']);
    expect(notGit.code).toBe(2);
    expect(notGit.stderr, notGit.stderr).toContain('is not a git checkout: --base needs one');
    const r = await repo({ commits: [{ 'a.py': 'X = 1\n' }] });
    const missing = await code4py(['validate', r.dir, '--base', 'no-such-branch']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--base no-such-branch: no such commit in');
    const option = await code4py(['validate', r.dir, '--base', '--upload-pack=evil']);
    expect(option.code).toBe(2);
    expect(option.stderr, option.stderr).toContain('--base --upload-pack=evil: give a commit, branch or tag, such as main or HEAD~1');
  });
});
