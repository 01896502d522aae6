import { once } from 'node:events';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip } from 'node:zlib';
import { Parser, type ReadEntry } from 'tar';
import { defaultValidationConfig, type ValidationConfig } from '../config/schema.js';
import { Code4PyError } from '../errors.js';
import { formatBytes, type InputFile } from '../validate/workspace.js';

/** The repository's tarball could not be read: corrupt, truncated, or over a limit. The message says which. */
export class TarballError extends Code4PyError {
  override readonly name = 'TarballError';
}

export type TarballLimits = ValidationConfig['limits'] & {
  /**
   * Bytes the tarball may unpack to, skipped entries and tar headers included, before reading stops: the
   * bound on the work a decompression bomb can cause. Default: four times `max_total_bytes`.
   */
  readonly max_unpacked_bytes?: number;
};

export interface SkippedEntry {
  /** Relative to the repository root (the tarball's top folder stripped), or the entry's raw name when it has no such form. */
  readonly path: string;
  readonly reason: string;
}

/** The repository at one commit, read into memory. */
export interface RepoSnapshot {
  /** Regular files, in the tarball's order. */
  readonly files: InputFile[];
  /** Symbolic links: never followed, never written onto or through (see the path policy). */
  readonly symlinks: string[];
  /** Submodules: GitHub's tarballs hold each as an empty folder (Git stores no empty folders otherwise). */
  readonly submodules: string[];
  /** Every entry left out (links, devices, unsafe names, files over `max_file_bytes`), with why. */
  readonly skipped: SkippedEntry[];
}

/**
 * Reads GitHub's tarball of a repository (`GET /repos/{owner}/{repo}/tarball/{ref}`: gzip, one top folder
 * `owner-repo-sha/`) into memory; nothing touches the disk. Bytes are counted as they stream, so reading
 * stops at the first limit crossed, whatever the archive claims about itself.
 */
export async function readRepoTarball(input: Readable | Uint8Array, limits: TarballLimits = defaultValidationConfig().limits): Promise<RepoSnapshot> {
  const source = input instanceof Readable ? input : Readable.from([Buffer.from(input.buffer, input.byteOffset, input.byteLength)]);
  const reader = new EntryReader(limits);
  const unpackedCap = limits.max_unpacked_bytes ?? 4 * limits.max_total_bytes;
  let unpacked = 0;
  /** The unpacked stream's first bytes, gathered until there are enough to judge: chunks may be as short as one byte. */
  let head: Buffer | undefined = Buffer.alloc(0);
  let parserError: Error | undefined;
  // Brotli and zstd sniffing off (the parser would unpack what starts like either); gzip inside the gzip is
  // refused below, so every byte is counted here.
  const parser = new Parser({ strict: true, zstd: false, brotli: false, onReadEntry: (entry) => reader.read(entry) });
  parser.on('ignoredEntry', (entry: ReadEntry) => reader.ignore(entry));
  parser.on('error', (error: Error) => (parserError ??= error));
  const failure = () => reader.failure ?? (parserError && corrupt(parserError));
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      // The parser unzips what starts with gzip's magic bytes — judging by the stream's first bytes, however
      // they are split into chunks (it holds back a short first one) — and those bytes would escape the count:
      // refuse that, judging by the same bytes.
      if (head) {
        head = Buffer.concat([head, chunk]);
        if (head.length >= GZIP_MAGIC.length) {
          const gzip = head.subarray(0, GZIP_MAGIC.length).equals(GZIP_MAGIC);
          head = undefined;
          if (gzip) return callback(new TarballError('The repository tarball holds another gzip stream instead of a tar archive; GitHub never sends that.'));
        }
      }
      unpacked += chunk.length;
      if (unpacked > unpackedCap) {
        return callback(new TarballError(`The repository tarball unpacks to more than ${formatBytes(unpackedCap)}, so Code4Py stopped reading it. Keep large files out of the repository, or raise limits.max_total_bytes in .github/code4py.yml.`));
      }
      parser.write(chunk);
      callback(failure() ?? null);
    },
    final(callback) {
      // The parser ends after its last entry; it errors first on a truncated one, and an abort (always
      // followed by an error) never ends it: the end or the first error settles, once.
      const settle = () => callback(failure() ?? null);
      once(parser, 'end').then(settle, settle);
      parser.end();
    },
  });
  try {
    await pipeline(source, createGunzip(), sink);
  } catch (error) {
    if (error instanceof TarballError) throw error;
    throw corrupt(error as Error);
  }
  return reader.snapshot();
}

const GZIP_MAGIC = Buffer.from([0x1f, 0x8b]);

function corrupt(error: Error): TarballError {
  const { code, tarCode } = error as NodeJS.ErrnoException & { tarCode?: string };
  const detail =
    // zlib's Z_BUF_ERROR says "unexpected end of file"; tar's says "Truncated input".
    /unexpected end|truncated/i.test(error.message)
      ? 'it ends too early (a truncated download)'
      : code?.startsWith('Z_')
        ? `it is not valid gzip data (${error.message})`
        : tarCode !== undefined
          ? `it is not a valid tar archive (${error.message.replace(`${tarCode}: `, '')})`
          : `the download failed (${error.message})`;
  return new TarballError(`The repository tarball from GitHub could not be read: ${detail}. Trigger Code4Py again; if this persists, GitHub sent a damaged archive.`, { cause: error });
}

/** An entry's path below the top folder (`''`: the top folder itself), or, with a reason, why it is refused. */
interface Located {
  readonly path: string;
  readonly reason?: string;
}

/** Turns tar entries into files and notes; `failure` is set at the first limit crossed. */
class EntryReader {
  failure: TarballError | undefined;
  private top: string | undefined;
  private readonly files: InputFile[] = [];
  private readonly symlinks: string[] = [];
  private readonly skipped: SkippedEntry[] = [];
  private readonly folders: string[] = [];
  /** Every path an entry claimed, and every folder something lies in. */
  private readonly claimed = new Set<string>();
  private readonly parents = new Set<string>();
  private keptBytes = 0;

  constructor(private readonly limits: TarballLimits) {}

  read(entry: ReadEntry): void {
    const { path, reason } = this.locate(entry.path, isFolder(entry));
    if (reason !== undefined) {
      this.skip(path, reason);
      return void entry.resume();
    }
    if (path === '') return void entry.resume(); // the top folder
    for (const parent of ancestors(path)) this.parents.add(parent);
    if (isFolder(entry)) {
      this.folders.push(path);
      return void entry.resume();
    }
    if (this.claimed.has(path)) {
      this.skip(path, 'appears twice in the tarball; the first one was kept');
      return void entry.resume();
    }
    this.claimed.add(path);
    switch (entry.type) {
      case 'File': // also an old-style entry: the parser reads its empty type as a file
      case 'ContiguousFile':
        return this.readFile(entry, path);
      case 'SymbolicLink':
        this.symlinks.push(path);
        this.skip(path, 'is a symbolic link; links are never followed');
        break;
      case 'Link':
        this.skip(path, 'is a hard link; links are never followed');
        break;
      default:
        this.skip(path, `is not a regular file (${entry.type})`);
    }
    entry.resume();
  }

  /** Entries the tar parser does not hand out (sparse files, tape volumes, oversized metadata). */
  ignore(entry: ReadEntry): void {
    if (entry.meta) return;
    // Never the top folder: a path without a folder below the top is refused as lying outside it.
    this.skip(this.locate(entry.path, false).path, `is an unsupported tar entry (${entry.type})`);
  }

  snapshot(): RepoSnapshot {
    // A file inside a link's path, or inside another file's, cannot exist in a checkout: leave it out.
    const links = new Set(this.symlinks);
    const filePaths = new Set(this.files.map((f) => f.path));
    const files = this.files.filter((file) => {
      const blocker = ancestors(file.path).find((a) => links.has(a) || filePaths.has(a));
      if (blocker !== undefined) this.skip(file.path, `lies inside ${blocker}, which is ${links.has(blocker) ? 'a symbolic link' : 'a file'}`);
      return blocker === undefined;
    });
    const submodules = this.folders.filter((folder) => !this.parents.has(folder));
    return { files, symlinks: [...this.symlinks], submodules, skipped: [...this.skipped] };
  }

  private readFile(entry: ReadEntry, path: string): void {
    const { max_file_bytes, max_files, max_total_bytes } = this.limits;
    if (entry.size > max_file_bytes) {
      this.skip(path, `is larger than ${formatBytes(max_file_bytes)} (limits.max_file_bytes), so it was left out`);
      return void entry.resume();
    }
    if (this.files.length >= max_files) {
      this.fail(`The repository holds more than ${max_files} files, so Code4Py stopped reading it. Raise limits.max_files in .github/code4py.yml.`);
      return void entry.resume();
    }
    const chunks: Buffer[] = [];
    let length = 0;
    // Past a failure the reading stops within the chunk at hand, and what is read there is thrown away.
    entry.on('data', (chunk: Buffer) => {
      length += chunk.length;
      this.keptBytes += chunk.length;
      if (this.keptBytes > max_total_bytes) {
        this.fail(`The repository's files add up to more than ${formatBytes(max_total_bytes)}, so Code4Py stopped reading them. Raise limits.max_total_bytes in .github/code4py.yml.`);
        return;
      }
      chunks.push(chunk);
    });
    entry.on('end', () => this.files.push({ path, content: Buffer.concat(chunks, length) }));
  }

  /** Strips the top folder and refuses names that could not be a repository file. */
  private locate(raw: string, folder: boolean): Located {
    if (raw.startsWith('/') || /^[A-Za-z]:/.test(raw)) return { path: raw, reason: 'has an absolute path' };
    const [top, ...rest] = raw.replace(/\/+$/, '').split('/') as [string, ...string[]];
    // (An empty name is refused by the parser, and one starting with / is absolute.)
    if (top === '.' || top === '..') return { path: raw, reason: 'has "..", "." or an empty folder name in its path' };
    if (this.top === undefined && (rest.length > 0 || folder)) this.top = top;
    if (top !== this.top || (rest.length === 0 && !folder)) return { path: raw, reason: `lies outside the tarball's top folder${this.top ? ` ${this.top}/` : ''}` };
    const path = rest.join('/');
    if (rest.some((segment) => segment === '' || segment === '.' || segment === '..')) return { path, reason: 'has "..", "." or an empty folder name in its path' };
    if (/[\p{Cc}\\]/u.test(path)) return { path: JSON.stringify(path), reason: 'has a control character or a backslash in its name' };
    if (rest.some((segment) => segment.toLowerCase() === '.git')) return { path, reason: 'lies in .git/' };
    return { path };
  }

  private skip(path: string, reason: string): void {
    this.skipped.push({ path, reason });
  }

  private fail(message: string): void {
    this.failure ??= new TarballError(message);
  }
}

function isFolder(entry: ReadEntry): boolean {
  return entry.type === 'Directory' || entry.type === 'GNUDumpDir';
}

/** `a/b/c` → `a`, `a/b` (not the path itself). */
function ancestors(path: string): string[] {
  const parts = path.split('/');
  return parts.slice(0, -1).map((_, i) => parts.slice(0, i + 1).join('/'));
}
