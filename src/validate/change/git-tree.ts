import { execFile, spawn } from 'node:child_process';
import { lstat } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { ValidationConfig } from '../../config/schema.js';
import { UsageError } from '../../errors.js';
import type { Finding } from '../report.js';
import { FileBudget, isSkippedDir, linkNote, tooLargeNote, type InputFile } from '../workspace.js';

const run = promisify(execFile);

async function git(dir: string, args: readonly string[], encoding: 'utf8' | 'buffer' = 'utf8'): Promise<string> {
  try {
    const { stdout } = await run('git', ['-c', 'core.quotepath=off', ...args], { cwd: dir, maxBuffer: 512 * 1024 * 1024, encoding });
    return String(stdout);
  } catch (error) {
    const said = String((error as { stderr?: unknown }).stderr ?? (error as Error).message).trim().split('\n')[0];
    throw new UsageError(`git ${args[0]} failed in ${dir}: ${said}`);
  }
}

/** A path the validator never reads: in a dot-folder, an environment or a cache, as a copied folder would skip. */
function skipped(path: string): boolean {
  return path.split('/').slice(0, -1).some(isSkippedDir);
}

/**
 * The tree of commit-ish `ref` in the git checkout `dir` (the part under `dir` when it is a sub-folder),
 * read from git's objects: links and submodules are left out as a folder copy leaves them out.
 */
export async function readGitTree(dir: string, ref: string, config: ValidationConfig): Promise<{ sha: string; files: InputFile[]; notes: Finding[] }> {
  if (ref.startsWith('-')) throw new UsageError(`--base ${ref}: give a commit, branch or tag, such as main or HEAD~1`);
  await git(dir, ['rev-parse', '--is-inside-work-tree']).catch(() => {
    throw new UsageError(`${dir} is not a git checkout: --base needs one (the change is its working tree on top of the base commit)`);
  });
  const sha = (await git(dir, ['rev-parse', '--verify', '--quiet', `${ref}^{commit}`]).catch(() => '')).trim();
  if (!/^[0-9a-f]{40,64}$/.test(sha)) throw new UsageError(`--base ${ref}: no such commit in ${dir}; give a commit, branch or tag that exists there (git log shows them)`);
  const listing = await git(dir, ['ls-tree', '-r', '-z', '-l', sha, '.']);
  const entries = listing.split('\0').filter(Boolean).map((line) => {
    const [meta = '', path = ''] = line.split('\t');
    const [mode = '', type = '', object = '', size = ''] = meta.split(/\s+/);
    return { mode, type, object, size: Number(size) || 0, path };
  });
  const budget = new FileBudget(dir, config.limits);
  const notes: Finding[] = [];
  const wanted: typeof entries = [];
  for (const entry of entries) {
    if (skipped(entry.path)) continue;
    if (entry.type !== 'blob') continue; // submodules
    if (entry.mode === '120000') {
      notes.push(linkNote(entry.path));
      continue;
    }
    if (entry.size > config.limits.max_file_bytes) {
      notes.push(tooLargeNote(entry.path, config.limits.max_file_bytes));
      continue;
    }
    budget.take(entry.size);
    wanted.push(entry);
  }
  const contents = await catFiles(dir, wanted.map((e) => e.object));
  return { sha, files: wanted.map((e, i) => ({ path: e.path, content: contents[i]! })), notes };
}

/** Reads blobs with one `git cat-file --batch`. */
async function catFiles(dir: string, objects: readonly string[]): Promise<Buffer[]> {
  if (objects.length === 0) return [];
  const child = spawn('git', ['cat-file', '--batch'], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const done = new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', resolve);
  });
  child.stdin.end(`${objects.join('\n')}\n`);
  const code = await done;
  if (code !== 0) throw new UsageError(`git cat-file failed in ${dir} (exit ${code})`);
  const out = Buffer.concat(chunks);
  const blobs: Buffer[] = [];
  let at = 0;
  for (const object of objects) {
    const eol = out.indexOf(0x0a, at);
    const header = out.subarray(at, eol).toString('utf8').split(' ');
    if (header[0] !== object || header[1] !== 'blob') throw new UsageError(`git cat-file did not give the blob ${object} in ${dir}`);
    const size = Number(header[2]);
    blobs.push(out.subarray(eol + 1, eol + 1 + size));
    at = eol + 1 + size + 1;
  }
  return blobs;
}

/**
 * The working tree of the git checkout `dir`: tracked files and untracked ones git does not ignore, as
 * they are on disk (a deleted file is left out). Links are noted, never followed.
 */
export async function readWorkingTree(dir: string, config: ValidationConfig): Promise<{ files: InputFile[]; notes: Finding[] }> {
  const listing = await git(dir, ['ls-files', '-z', '--cached', '--others', '--exclude-standard', '--deduplicate', '.']);
  const paths = [...new Set(listing.split('\0').filter(Boolean))].sort();
  const budget = new FileBudget(dir, config.limits);
  const files: InputFile[] = [];
  const notes: Finding[] = [];
  for (const path of paths) {
    if (skipped(path)) continue;
    const full = join(dir, path);
    const stat = await lstat(full).catch(() => null);
    if (!stat) continue; // deleted in the working tree
    if (stat.isSymbolicLink()) {
      notes.push(linkNote(path));
      continue;
    }
    if (!stat.isFile()) continue; // a submodule's folder
    await budget.read(full, path, { files, notes });
  }
  return { files, notes };
}
