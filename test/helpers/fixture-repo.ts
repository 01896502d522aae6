import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Files of one commit: a path's text, or null to delete it. */
export type CommitFiles = Record<string, string | Buffer | null>;

export interface FixtureRepo {
  readonly dir: string;
  /** The sha of each commit, in order. */
  readonly commits: readonly string[];
  /** Runs git in the repository and returns its standard output, trimmed. */
  git(...args: string[]): Promise<string>;
  /** Writes (or, with null, deletes) files in the working tree without committing them. */
  write(files: CommitFiles): Promise<void>;
  cleanup(): Promise<void>;
}

const GIT_ENV = {
  GIT_AUTHOR_NAME: 'Fixture',
  GIT_AUTHOR_EMAIL: 'fixture@example.com',
  GIT_COMMITTER_NAME: 'Fixture',
  GIT_COMMITTER_EMAIL: 'fixture@example.com',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
};

/**
 * A git repository in a temporary folder, built from a list of commits (each a set of files written or
 * deleted on top of the last): the one builder every test that needs a repository with a history uses.
 */
export async function fixtureRepo(options: { commits: readonly CommitFiles[]; working?: CommitFiles }): Promise<FixtureRepo> {
  const dir = await mkdtemp(join(tmpdir(), 'code4py-repo-'));
  const git = async (...args: string[]): Promise<string> => {
    const { stdout } = await run('git', args, { cwd: dir, env: { ...process.env, ...GIT_ENV }, maxBuffer: 64 * 1024 * 1024 });
    return stdout.trim();
  };
  const write = async (files: CommitFiles): Promise<void> => {
    for (const [path, content] of Object.entries(files)) {
      const target = join(dir, path);
      if (content === null) {
        await rm(target, { force: true });
        continue;
      }
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  };
  try {
    await git('init', '-q', '-b', 'main');
    const commits: string[] = [];
    for (const [i, files] of options.commits.entries()) {
      await write(files);
      await git('add', '-A');
      await git('commit', '-q', '--allow-empty', '-m', `commit ${i + 1}`);
      commits.push(await git('rev-parse', 'HEAD'));
    }
    if (options.working) await write(options.working);
    return { dir, commits, git, write, cleanup: () => rm(dir, { recursive: true, force: true }) };
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}
