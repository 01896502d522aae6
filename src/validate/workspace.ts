import { constants } from 'node:fs';
import { lstat, mkdir, mkdtemp, open, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import type { ValidationConfig } from '../config/schema.js';
import { UsageError } from '../errors.js';
import type { Finding } from './report.js';
import type { SourceFile } from './source.js';

/** Folders that are never part of the code under validation (tool caches, environments, VCS data). */
const SKIPPED_DIRS = new Set(['__pycache__', 'node_modules', 'venv', 'env', 'site-packages', 'htmlcov']);

/** Folders that are never copied: dot-folders (VCS data, tool caches), environments, caches, build metadata. */
export function isSkippedDir(name: string): boolean {
  return name.startsWith('.') || SKIPPED_DIRS.has(name) || name.endsWith('.egg-info');
}

/** A private copy of the folder under validation: the sandbox only ever sees this copy. */
export interface Workspace {
  /** Host path of the copy (mounted at /work in the sandbox). */
  readonly root: string;
  readonly files: readonly SourceFile[];
  /** Files that were not copied, and why. */
  readonly notes: readonly Finding[];
  /** Removes the copy and everything the run left in it. */
  dispose(): Promise<void>;
}

export interface InputFile {
  readonly path: string;
  readonly content: Buffer;
}

/**
 * Copies `dir` into a fresh temporary folder. Nothing outside `dir` is ever read: symbolic links are not
 * followed (they are listed as not copied), and nor are devices, sockets or pipes.
 */
export async function copyFolder(dir: string, config: ValidationConfig): Promise<Workspace> {
  const { files, notes } = await readFolder(dir, config);
  const workspace = await writeWorkspace(files);
  return { ...workspace, notes: [...notes, ...workspace.notes] };
}

/** Reads `dir` into memory by copyFolder's rules: links and special files are noted, never followed. */
export async function readFolder(dir: string, config: ValidationConfig): Promise<{ files: InputFile[]; notes: Finding[] }> {
  const stat = await lstat(dir).catch(() => null);
  if (!stat) throw new UsageError(`${dir} does not exist. Give the folder that holds the Python code and its tests.`);
  if (!stat.isDirectory()) throw new UsageError(`${dir} is not a folder. Give the folder that holds the Python code and its tests.`);
  const notes: Finding[] = [];
  const inputs: InputFile[] = [];
  const budget = new FileBudget(dir, config.limits);
  const visit = async (folder: string): Promise<void> => {
    const entries = await readdir(folder, { withFileTypes: true }).catch((error: NodeJS.ErrnoException) => {
      notes.push(note(relative(dir, folder), 'unreadable', `could not be read (${error.code ?? error.message}); it was left out`, 'warning'));
      return [];
    });
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      const full = join(folder, entry.name);
      const path = relative(dir, full).split(sep).join('/');
      if (entry.isDirectory()) {
        if (isSkippedDir(entry.name)) continue;
        await visit(full);
      } else if (entry.isSymbolicLink()) {
        notes.push(linkNote(path));
      } else if (entry.isFile()) {
        await budget.read(full, path, { files: inputs, notes });
      } else if (!entry.name.startsWith('.')) {
        notes.push(note(path, 'special-file', 'is not a regular file (a device, socket or pipe); it was left out', 'info'));
      }
    }
  };
  await visit(dir);
  return { files: inputs, notes };
}

/** The totals a tree read into memory may reach (limits.max_files, limits.max_total_bytes), and what to do beyond them. */
export class FileBudget {
  private files = 0;
  private bytes = 0;
  constructor(
    private readonly dir: string,
    private readonly limits: ValidationConfig['limits'],
  ) {}
  /** Counts one more file of `size` bytes; throws once a total is passed. */
  take(size: number): void {
    if (++this.files > this.limits.max_files) throw new UsageError(`${this.dir} holds more than ${this.limits.max_files} files. Validate a smaller folder, or raise limits.max_files in the config.`);
    this.bytes += size;
    if (this.bytes > this.limits.max_total_bytes) throw new UsageError(`${this.dir} holds more than ${formatBytes(this.limits.max_total_bytes)} of files. Validate a smaller folder, or raise limits.max_total_bytes in the config.`);
  }
  /**
   * Reads the regular file at `full` into `out.files` and counts it; one above limits.max_file_bytes is
   * noted instead, and one that is no longer a regular file (swapped meanwhile) is left out.
   */
  async read(full: string, path: string, out: { files: InputFile[]; notes: Finding[] }): Promise<void> {
    const content = await readRegular(full, this.limits.max_file_bytes);
    if (content === 'too-large') {
      out.notes.push(tooLargeNote(path, this.limits.max_file_bytes));
    } else if (content !== null) {
      this.take(content.length);
      out.files.push({ path, content });
    }
  }
}

/** The note for a symbolic link, which is never followed. */
export function linkNote(path: string): Finding {
  return note(path, 'symlink', 'is a symbolic link; links are not followed or copied into the sandbox', 'warning');
}

/** The note for a file above limits.max_file_bytes: an error for Python (it cannot be validated), else a warning. */
export function tooLargeNote(path: string, maxBytes: number): Finding {
  const python = path.endsWith('.py');
  return note(path, 'file-too-large', `is larger than ${formatBytes(maxBytes)}, so it was not copied into the sandbox${python ? ' and cannot be validated' : ''}; split it or raise limits.max_file_bytes`, python ? 'error' : 'warning');
}

/** Writes the given files into a fresh temporary folder. Paths must be relative and stay inside it. */
export async function writeWorkspace(inputs: readonly InputFile[]): Promise<Workspace> {
  const root = await mkdtemp(join(tmpdir(), 'code4py-work-'));
  const dispose = () => rm(root, { recursive: true, force: true });
  try {
    const files: SourceFile[] = [];
    for (const input of inputs) {
      if (input.path.startsWith('/') || input.path.split('/').some((part) => part === '..' || part === '')) {
        throw new UsageError(`refusing the path ${JSON.stringify(input.path)}: paths must be relative and stay inside the folder`);
      }
      const target = join(root, input.path);
      await mkdir(join(target, '..'), { recursive: true });
      await writeFile(target, input.content, { flag: 'wx', mode: 0o644 });
      files.push({ path: input.path, text: decodeText(input.content), bytes: input.content.length });
    }
    return { root, files, notes: [], dispose };
  } catch (error) {
    await dispose();
    throw error;
  }
}

/** Reads a regular file without following a link swapped in meanwhile; null when it is not one any more. */
async function readRegular(path: string, maxBytes: number): Promise<Buffer | 'too-large' | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    const stat = await handle.stat();
    if (!stat.isFile()) return null;
    if (stat.size > maxBytes) return 'too-large';
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** The file's text, or null for binary data or another encoding. */
export function decodeText(content: Buffer): string | null {
  if (content.includes(0)) return null;
  try {
    return utf8.decode(content);
  } catch {
    return null;
  }
}

export function note(path: string, rule: string, message: string, severity: Finding['severity']): Finding {
  return { path: path || '.', line: 0, rule, message: `${path || '.'} ${message}`, severity };
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / (1024 * 1024)).toFixed(bytes % (1024 * 1024) ? 1 : 0)} MiB`;
  if (bytes >= 1024) return `${(bytes / 1024).toFixed(bytes % 1024 ? 1 : 0)} KiB`;
  return `${bytes} bytes`;
}
