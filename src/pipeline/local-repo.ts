import { lstat, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeIssues, parseYamlDocument } from '../config/load.js';
import { CONFIG_PATH, RepoConfigSchema, type RepoConfig } from '../config/repo-config.js';
import { UsageError } from '../errors.js';
import type { Finding } from '../validate/report.js';
import { readFolder } from '../validate/workspace.js';
import type { RepoSource } from './ports.js';

export interface LocalRepository extends RepoSource {
  /** Files left out (links, files over the size limit), as the validator notes them. */
  readonly notes: readonly Finding[];
}

/**
 * A checkout on disk, read as the bot reads a repository's tarball: regular files only, dot-folders,
 * virtual environments and caches left out, symbolic links never followed — and never written through.
 */
export async function readLocalRepository(dir: string, config: RepoConfig): Promise<LocalRepository> {
  const { files, notes } = await readFolder(dir, config);
  const blocked = new Set(notes.filter((n) => n.rule === 'symlink').map((n) => n.path));
  return { files, blocked, notes };
}

/**
 * The checkout's `.github/code4py.yml`, as the bot would read it from the default branch; the defaults when
 * there is none. `_extends` cannot be followed without GitHub, so it is ignored, and the caller says so.
 */
export async function readLocalConfig(dir: string): Promise<{ config: RepoConfig; source: string | null; ignoredExtends: boolean }> {
  const path = join(dir, CONFIG_PATH);
  const stat = await lstat(path).catch(() => null);
  if (!stat) return { config: RepoConfigSchema.parse({}), source: null, ignoredExtends: false };
  if (!stat.isFile()) throw new UsageError(`${path} is not a regular file; Code4Py reads its settings only from a regular file.`);
  const document = parseYamlDocument(await readFile(path, 'utf8'), path);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new UsageError(`${path} must be a mapping of keys (such as max_attempts: 3).`);
  }
  const parsed = RepoConfigSchema.safeParse(document);
  if (!parsed.success) throw new UsageError(`${path} has settings Code4Py cannot use:\n${describeIssues(parsed.error.issues)}\nFix or remove these keys; the README lists every key with its default.`);
  return { config: parsed.data, source: path, ignoredExtends: parsed.data._extends !== undefined };
}
