import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt } from '../helpers/cli-bin.js';
import { GOOD_PROJECT, makeProject } from '../helpers/project.js';

/**
 * The package as a user gets it: `npm pack` makes the tarball the registry would serve, which is installed
 * into an empty folder from the npm registry, and its `code4py` binary runs there. The install skips
 * install scripts (`--ignore-scripts`): the only one that matters, better-sqlite3's, compiles a native
 * module for a minute and a half when no prebuilt binary can be downloaded, and the CLI never loads it
 * (only the bot's embedded store does), so the test also shows the CLI does not need it.
 */

const run = promisify(execFile);
const ROOT = process.cwd();
const INSTALL_TIMEOUT_MS = 240_000;

let work: string;
let installed: string;
/** The tarball's files. */
let files: string[] = [];

beforeAll(async () => {
  // The build `npm test` made; `npm pack` would otherwise build it again (prepare), which takes a while.
  ensureBuilt();
  work = await mkdtemp(join(tmpdir(), 'code4py-package-'));
  const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 });
  const [packed] = JSON.parse(stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  installed = join(work, 'empty');
  await mkdir(installed);
  await run('npm', ['install', '--ignore-scripts', '--no-audit', '--no-fund', '--no-save', join(work, packed!.filename)], { cwd: installed, timeout: INSTALL_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
  files = packed!.files.map((f) => f.path);
}, INSTALL_TIMEOUT_MS + 60_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

/** The installed binary, as `npx code4py` finds it. */
async function code4py(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(join(installed, 'node_modules', '.bin', 'code4py'), args, { cwd: installed, timeout: 120_000, env: { PATH: process.env.PATH, HOME: installed } });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('the npm package', () => {
  it('holds the built code, the sandbox driver and the docs, and no sources or tests', () => {
    expect(files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/cli/code4py.js', 'dist/cli/ruff-worker.js', 'dist/src/main.js', 'python/validate.py', 'app.yml', 'docs/configuration.md']));
    expect(files.filter((f) => /^(src|test|bench)\/|\.ts$|\.map$/.test(f))).toEqual([]);
  });

  it('installs into an empty folder and answers `code4py --version` with its version', async () => {
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    const result = await code4py(['--version']);
    expect(result).toMatchObject({ code: 0, stdout: `${version}\n` });
  });

  it('answers `code4py --help` with its commands', async () => {
    const result = await code4py(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^Usage: code4py \[options\] \[command\]/);
    for (const command of ['validate', 'generate', 'eval']) expect(result.stdout).toMatch(new RegExp(`^ {2}${command} `, 'm'));
  });

  it('validates a project with `code4py validate DIR` in the sandbox', async () => {
    const project = await makeProject(GOOD_PROJECT);
    try {
      const result = await code4py(['validate', project.dir]);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout.trim().split('\n').at(-1)).toMatch(/^PASSED: 2 passed, 0 failed in /);
    } finally {
      await project.cleanup();
    }
  });
});
