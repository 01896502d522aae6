import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { createGzip, gzipSync } from 'node:zlib';
import { create as createTar, Header, type HeaderData } from 'tar';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultValidationConfig } from '../../src/config/schema.js';
import { readRepoTarball, TarballError } from '../../src/github/tarball.js';

const TOP = 'octo-hello-0123abc';
const defaults = defaultValidationConfig().limits;
const MiB = 1024 * 1024;

interface RawEntry extends HeaderData {
  readonly body?: Buffer | string;
}

/** A tar archive written header by header, so it can hold what no honest tool writes. */
function rawTar(entries: readonly RawEntry[]): Buffer {
  const blocks: Buffer[] = [];
  for (const { body, ...data } of entries) {
    const content = body === undefined ? Buffer.alloc(0) : Buffer.from(body);
    const header = new Header({ mode: 0o644, mtime: new Date(0), type: 'File', ...data, size: content.length });
    header.encode();
    blocks.push(header.block!, content, Buffer.alloc((512 - (content.length % 512)) % 512));
  }
  return Buffer.concat([...blocks, Buffer.alloc(1024)]);
}

const gzTar = (entries: readonly RawEntry[]) => gzipSync(rawTar(entries));
const dir = (path: string): RawEntry => ({ path: `${path}/`, type: 'Directory', mode: 0o755 });
const text = (path: string, body: string): RawEntry => ({ path, body });

/** Streams `data` in 64 KiB pieces and counts how much of it the reader asked for. */
function countingStream(data: Buffer): { stream: Readable; consumed: () => number } {
  let consumed = 0;
  const stream = Readable.from(
    (function* () {
      for (let offset = 0; offset < data.length; offset += 64 * 1024) {
        const piece = data.subarray(offset, offset + 64 * 1024);
        consumed += piece.length;
        yield piece;
      }
    })(),
  );
  return { stream, consumed: () => consumed };
}

/** A gzipped tar of `count` files of `size` zero bytes each, built without holding the zeros in memory. */
async function zeroBomb(count: number, size: number): Promise<Buffer> {
  const zeros = Buffer.alloc(MiB);
  function* tar() {
    yield rawTar([dir(TOP)]).subarray(0, 512);
    for (let i = 0; i < count; i++) {
      const header = new Header({ path: `${TOP}/zeros-${i}.py`, type: 'File', size, mode: 0o644, mtime: new Date(0) });
      header.encode();
      yield header.block!;
      for (let left = size; left > 0; left -= MiB) yield left >= MiB ? zeros : zeros.subarray(0, left);
      yield Buffer.alloc((512 - (size % 512)) % 512);
    }
    yield Buffer.alloc(1024);
  }
  return buffer(Readable.from(tar()).pipe(createGzip({ level: 1 })));
}

describe('reading the repository tarball', () => {
  describe('a tarball made by git archive, as GitHub makes it', () => {
    let work: string;
    let tarball: Buffer;
    const longPath = `src/${'deep/'.repeat(30)}module.py`;

    beforeAll(async () => {
      work = await mkdtemp(join(tmpdir(), 'code4py-tarball-'));
      const git = (...args: string[]) => execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', ...args], { cwd: work });
      git('init', '-q');
      await mkdir(join(work, 'pkg'));
      await mkdir(join(work, '.github/workflows'), { recursive: true });
      await mkdir(join(work, longPath, '..'), { recursive: true });
      await writeFile(join(work, 'pkg/mod.py'), 'def add(a, b):\n    return a + b\n');
      await writeFile(join(work, 'pkg/data.bin'), Buffer.from([0, 1, 2, 255]));
      await writeFile(join(work, '.github/workflows/ci.yml'), 'on: push\n');
      await writeFile(join(work, longPath), 'X = 1\n');
      await symlink('pkg/mod.py', join(work, 'alias.py'));
      git('add', '.');
      // A submodule without a second repository: a gitlink entry is all a commit holds of one.
      git('update-index', '--add', '--cacheinfo', `160000,${'1'.repeat(40)},vendor/lib`);
      git('commit', '-qm', 'fixture');
      tarball = execFileSync('git', ['archive', '--format=tar.gz', `--prefix=${TOP}/`, 'HEAD'], { cwd: work });
    });

    afterAll(async () => {
      await rm(work, { recursive: true, force: true });
    });

    it('gives every regular file with its exact content, the top folder stripped', async () => {
      const snapshot = await readRepoTarball(tarball);
      const files = Object.fromEntries(snapshot.files.map((f) => [f.path, f.content]));
      expect(Object.keys(files).sort()).toEqual(['.github/workflows/ci.yml', 'pkg/data.bin', 'pkg/mod.py', longPath].sort());
      expect(files['pkg/mod.py']!.toString()).toBe('def add(a, b):\n    return a + b\n');
      expect(files['pkg/data.bin']).toEqual(Buffer.from([0, 1, 2, 255]));
      expect(files[longPath]!.toString()).toBe('X = 1\n');
    });

    it('lists the symbolic link (not followed) and the submodule', async () => {
      const snapshot = await readRepoTarball(tarball);
      expect(snapshot.symlinks).toEqual(['alias.py']);
      expect(snapshot.submodules).toEqual(['vendor/lib']);
      expect(snapshot.skipped).toEqual([{ path: 'alias.py', reason: 'is a symbolic link; links are never followed' }]);
    });

    it('reads a stream as it reads a buffer', async () => {
      expect(await readRepoTarball(Readable.from([tarball.subarray(0, 100), tarball.subarray(100)]))).toEqual(await readRepoTarball(tarball));
    });
  });

  it('reads a tarball made by the tar package from a folder with a link in it', async () => {
    const work = await mkdtemp(join(tmpdir(), 'code4py-tarball-'));
    try {
      await mkdir(join(work, TOP, 'src'), { recursive: true });
      await writeFile(join(work, TOP, 'src/a.py'), 'A = 1\n');
      await symlink('/etc', join(work, TOP, 'src/etc'));
      const tarball = await buffer(createTar({ gzip: true, cwd: work, portable: true }, [TOP]));
      const snapshot = await readRepoTarball(tarball);
      expect(snapshot.files).toEqual([{ path: 'src/a.py', content: Buffer.from('A = 1\n') }]);
      expect(snapshot.symlinks).toEqual(['src/etc']);
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  });

  it('reads old-style and contiguous file entries as files', async () => {
    const snapshot = await readRepoTarball(gzTar([dir(TOP), { path: `${TOP}/old.py`, type: 'OldFile', body: 'old' }, { path: `${TOP}/contiguous.py`, type: 'ContiguousFile', body: 'c' }]));
    expect(snapshot.files).toEqual([
      { path: 'old.py', content: Buffer.from('old') },
      { path: 'contiguous.py', content: Buffer.from('c') },
    ]);
  });

  it('reads a file holding gzip data, also where it starts a chunk of the unpacked stream', async () => {
    // Gunzip hands out 16 KiB chunks: after the folder's and the file's headers, the gzip bytes start one.
    const data = Buffer.concat([Buffer.alloc(16 * 1024 - 1024, 0x61), gzipSync('hello')]);
    const snapshot = await readRepoTarball(gzTar([dir(TOP), { path: `${TOP}/data.bin`, body: data }]));
    expect(snapshot.files).toEqual([{ path: 'data.bin', content: data }]);
  });

  it('reads a tarball without folder entries, its top folder taken from the first path', async () => {
    expect((await readRepoTarball(gzTar([text(`${TOP}/a.py`, 'A'), text(`${TOP}/pkg/b.py`, 'B')]))).files.map((f) => f.path)).toEqual(['a.py', 'pkg/b.py']);
  });

  it('takes a GNU dump folder for a folder', async () => {
    expect((await readRepoTarball(gzTar([dir(TOP), { path: `${TOP}/dump/`, type: 'GNUDumpDir' }]))).submodules).toEqual(['dump']);
  });

  it('reads a folder entry with more than one trailing slash', async () => {
    expect((await readRepoTarball(gzTar([dir(TOP), { path: `${TOP}/sub//`, type: 'Directory' }]))).submodules).toEqual(['sub']);
  });

  it('passes over an oversized metadata header without a note, and reads the file after it', async () => {
    const pax: RawEntry = { path: `${TOP}/PaxHeader`, type: 'ExtendedHeader', body: 'x'.repeat(1024 * 1024 + 1) };
    expect(await readRepoTarball(gzTar([dir(TOP), pax, text(`${TOP}/ok.py`, 'ok')]))).toEqual({ files: [{ path: 'ok.py', content: Buffer.from('ok') }], symlinks: [], submodules: [], skipped: [] });
  });

  it('gives nothing for a repository with no files', async () => {
    expect(await readRepoTarball(gzTar([dir(TOP)]))).toEqual({ files: [], symlinks: [], submodules: [], skipped: [] });
  });

  describe('entries it never reads', () => {
    it.each<[string, RawEntry, string, string]>([
      ['a path with ..', text(`${TOP}/../evil.py`, 'x'), '../evil.py', 'has "..", "." or an empty folder name in its path'],
      ['a path with .. deeper in', text(`${TOP}/a/../../evil.py`, 'x'), 'a/../../evil.py', 'has "..", "." or an empty folder name in its path'],
      ['a path with .', text(`${TOP}/./a.py`, 'x'), './a.py', 'has "..", "." or an empty folder name in its path'],
      ['a path with an empty folder name', text(`${TOP}/a//b.py`, 'x'), 'a//b.py', 'has "..", "." or an empty folder name in its path'],
      ['an absolute path', text('/etc/cron.d/evil', 'x'), '/etc/cron.d/evil', 'has an absolute path'],
      ['a Windows drive path', text('C:/evil.py', 'x'), 'C:/evil.py', 'has an absolute path'],
      ['a path outside the top folder', text('elsewhere/a.py', 'x'), 'elsewhere/a.py', `lies outside the tarball's top folder ${TOP}/`],
      ['a file beside the top folder', text('a.py', 'x'), 'a.py', `lies outside the tarball's top folder ${TOP}/`],
      ['a file named as the top folder', text(TOP, 'x'), TOP, `lies outside the tarball's top folder ${TOP}/`],
      ['a control character', text(`${TOP}/a\u0007.py`, 'x'), '"a\\u0007.py"', 'has a control character or a backslash in its name'],
      ['a backslash', text(`${TOP}/a\\..\\b.py`, 'x'), '"a\\\\..\\\\b.py"', 'has a control character or a backslash in its name'],
      ['a file in .git/', text(`${TOP}/.git/hooks/post-checkout`, 'x'), '.git/hooks/post-checkout', 'lies in .git/'],
      ['a file in a nested .GIT/', text(`${TOP}/sub/.GIT/config`, 'x'), 'sub/.GIT/config', 'lies in .git/'],
      ['a hard link', { path: `${TOP}/hard.py`, type: 'Link', linkpath: '/etc/shadow' }, 'hard.py', 'is a hard link; links are never followed'],
      ['a character device', { path: `${TOP}/tty`, type: 'CharacterDevice' }, 'tty', 'is not a regular file (CharacterDevice)'],
      ['a block device', { path: `${TOP}/sda`, type: 'BlockDevice' }, 'sda', 'is not a regular file (BlockDevice)'],
      ['a FIFO', { path: `${TOP}/pipe`, type: 'FIFO' }, 'pipe', 'is not a regular file (FIFO)'],
    ])('%s', async (_what, entry, path, reason) => {
      const snapshot = await readRepoTarball(gzTar([dir(TOP), entry, text(`${TOP}/ok.py`, 'OK = 1\n')]));
      expect(snapshot.files).toEqual([{ path: 'ok.py', content: Buffer.from('OK = 1\n') }]);
      expect(snapshot.skipped).toEqual([{ path, reason }]);
      expect(snapshot.symlinks).toEqual([]);
    });

    it('an entry beside the top folder before it, which does not become the top folder', async () => {
      for (const [entry, reason] of [
        [text('a.py', 'x'), "lies outside the tarball's top folder"],
        [text('./a.py', 'x'), 'has "..", "." or an empty folder name in its path'],
        [{ path: 'a.py', type: 'SparseFile' } as RawEntry, 'is an unsupported tar entry (SparseFile)'],
      ] as const) {
        const snapshot = await readRepoTarball(gzTar([entry, dir(TOP), text(`${TOP}/ok.py`, 'ok')]));
        expect(snapshot.files.map((f) => f.path)).toEqual(['ok.py']);
        expect(snapshot.skipped).toEqual([{ path: entry.path, reason }]);
      }
    });

    it('a .. entry before any top folder does not become the top folder', async () => {
      const snapshot = await readRepoTarball(gzTar([text('../evil.py', 'x'), dir(TOP), text(`${TOP}/ok.py`, 'ok')]));
      expect(snapshot.files.map((f) => f.path)).toEqual(['ok.py']);
      expect(snapshot.skipped).toEqual([{ path: '../evil.py', reason: 'has "..", "." or an empty folder name in its path' }]);
    });

    it('a file inside a symbolic link’s path, whatever the order', async () => {
      const snapshot = await readRepoTarball(
        gzTar([dir(TOP), text(`${TOP}/lib/before.py`, 'x'), { path: `${TOP}/lib`, type: 'SymbolicLink', linkpath: '/usr/lib' }, text(`${TOP}/lib/after.py`, 'x')]),
      );
      expect(snapshot.files).toEqual([]);
      expect(snapshot.symlinks).toEqual(['lib']);
      expect(snapshot.skipped).toEqual([
        { path: 'lib', reason: 'is a symbolic link; links are never followed' },
        { path: 'lib/before.py', reason: 'lies inside lib, which is a symbolic link' },
        { path: 'lib/after.py', reason: 'lies inside lib, which is a symbolic link' },
      ]);
    });

    it('a file deep inside a symbolic link, or inside a file', async () => {
      const snapshot = await readRepoTarball(
        gzTar([dir(TOP), { path: `${TOP}/lib`, type: 'SymbolicLink', linkpath: 'x' }, text(`${TOP}/lib/x/y.py`, 'y'), text(`${TOP}/a.py`, 'a'), text(`${TOP}/a.py/b.py`, 'b')]),
      );
      expect(snapshot.files.map((f) => f.path)).toEqual(['a.py']);
      expect(snapshot.skipped.slice(1)).toEqual([
        { path: 'lib/x/y.py', reason: 'lies inside lib, which is a symbolic link' },
        { path: 'a.py/b.py', reason: 'lies inside a.py, which is a file' },
      ]);
    });

    it('no entry for a colon inside a name, which is no drive', async () => {
      expect((await readRepoTarball(gzTar([dir(TOP), text(`${TOP}/notes:v2.py`, 'x')]))).files.map((f) => f.path)).toEqual(['notes:v2.py']);
    });

    it('a second entry for the same path (the first is kept)', async () => {
      const snapshot = await readRepoTarball(gzTar([dir(TOP), text(`${TOP}/a.py`, 'first'), text(`${TOP}/a.py`, 'second')]));
      expect(snapshot.files).toEqual([{ path: 'a.py', content: Buffer.from('first') }]);
      expect(snapshot.skipped).toEqual([{ path: 'a.py', reason: 'appears twice in the tarball; the first one was kept' }]);
    });

    it('an unsupported entry type', async () => {
      const snapshot = await readRepoTarball(gzTar([dir(TOP), { path: `${TOP}/sparse.py`, type: 'SparseFile' }]));
      expect(snapshot.skipped).toEqual([{ path: 'sparse.py', reason: 'is an unsupported tar entry (SparseFile)' }]);
    });

    it('only an empty folder counts as a submodule', async () => {
      const snapshot = await readRepoTarball(gzTar([dir(TOP), dir(`${TOP}/sub`), dir(`${TOP}/pkg`), text(`${TOP}/pkg/a.py`, 'x'), dir(`${TOP}/only-link`), { path: `${TOP}/only-link/l`, type: 'SymbolicLink', linkpath: 'x' }]));
      expect(snapshot.submodules).toEqual(['sub']);
    });
  });

  describe('limits', () => {
    it('leaves out a file over limits.max_file_bytes and reads on', async () => {
      const snapshot = await readRepoTarball(gzTar([dir(TOP), text(`${TOP}/big.csv`, 'x'.repeat(2049)), text(`${TOP}/a.py`, 'x'.repeat(2048))]), { ...defaults, max_file_bytes: 2048 });
      expect(snapshot.files.map((f) => [f.path, f.content.length])).toEqual([['a.py', 2048]]);
      expect(snapshot.skipped).toEqual([{ path: 'big.csv', reason: 'is larger than 2 KiB (limits.max_file_bytes), so it was left out' }]);
    });

    it('stops at more than limits.max_files files', async () => {
      const tarball = gzTar([dir(TOP), text(`${TOP}/a.py`, ''), text(`${TOP}/b.py`, ''), text(`${TOP}/c.py`, '')]);
      await expect(readRepoTarball(tarball, { ...defaults, max_files: 3 })).resolves.toMatchObject({ files: { length: 3 } });
      await expect(readRepoTarball(tarball, { ...defaults, max_files: 2 })).rejects.toThrow(
        new TarballError('The repository holds more than 2 files, so Code4Py stopped reading it. Raise limits.max_files in .github/code4py.yml.'),
      );
    });

    it('stops at more than limits.max_total_bytes in all', async () => {
      const tarball = gzTar([dir(TOP), text(`${TOP}/a.py`, 'x'.repeat(1024)), text(`${TOP}/b.py`, 'x'.repeat(1024))]);
      await expect(readRepoTarball(tarball, { ...defaults, max_total_bytes: 2048 })).resolves.toMatchObject({ files: { length: 2 } });
      await expect(readRepoTarball(tarball, { ...defaults, max_total_bytes: 1536 })).rejects.toThrow(
        "The repository's files add up to more than 1.5 KiB, so Code4Py stopped reading them. Raise limits.max_total_bytes in .github/code4py.yml.",
      );
    });

    it('stops a gzip bomb of many files under the per-file limit at the default total, without reading the rest', async () => {
      const bomb = await zeroBomb(50, defaults.max_file_bytes); // 200 MiB of zeros in about 200 KiB
      expect(bomb.length).toBeLessThan(MiB);
      const { stream, consumed } = countingStream(bomb);
      await expect(readRepoTarball(stream)).rejects.toThrow("The repository's files add up to more than 64 MiB, so Code4Py stopped reading them.");
      expect(consumed()).toBeLessThan(bomb.length / 2);
      expect(stream.destroyed).toBe(true);
    });

    it('stops a gzip bomb of one huge file once the tarball unpacks to four times limits.max_total_bytes', async () => {
      const bomb = await zeroBomb(1, 200 * MiB);
      const { stream, consumed } = countingStream(bomb);
      const limits = { ...defaults, max_total_bytes: 16 * MiB };
      await expect(readRepoTarball(stream, limits)).rejects.toThrow(
        'The repository tarball unpacks to more than 64 MiB, so Code4Py stopped reading it. Keep large files out of the repository, or raise limits.max_total_bytes in .github/code4py.yml.',
      );
      expect(consumed()).toBeLessThan(bomb.length / 2);
    });

    it('takes its own bound on the unpacked size, headers and padding counted', async () => {
      const tar = rawTar([dir(TOP), text(`${TOP}/a.py`, 'x'.repeat(4096))]);
      await expect(readRepoTarball(gzipSync(tar), { ...defaults, max_unpacked_bytes: tar.length })).resolves.toMatchObject({ files: { length: 1 } });
      await expect(readRepoTarball(gzipSync(tar), { ...defaults, max_unpacked_bytes: 4096 })).rejects.toThrow('The repository tarball unpacks to more than 4 KiB');
    });
  });

  describe('a damaged tarball', () => {
    const good = gzTar([dir(TOP), text(`${TOP}/a.py`, 'x'.repeat(10_000))]);

    it.each<[string, Buffer, string]>([
      ['truncated gzip', good.subarray(0, good.length - 20), 'it ends too early (a truncated download)'],
      ['not gzip at all', rawTar([dir(TOP)]), 'it is not valid gzip data (incorrect header check)'],
      ['empty', Buffer.alloc(0), 'it ends too early (a truncated download)'],
      ['gzip of something that is not tar', gzipSync('hello, this is not a tarball'.repeat(40)), 'it is not a valid tar archive (checksum failure)'],
      ['gzip of zeros', gzipSync(Buffer.alloc(4096)), 'it is not a valid tar archive (Unrecognized archive format)'],
      ['gzip of a truncated tar', gzipSync(rawTar([dir(TOP), text(`${TOP}/a.py`, 'x'.repeat(10_000))]).subarray(0, 2048)), 'it ends too early (a truncated download)'],
    ])('%s gives a clear error', async (_what, data, detail) => {
      const error = await readRepoTarball(data).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TarballError);
      expect((error as Error).name).toBe('TarballError');
      expect((error as Error).cause).toBeInstanceOf(Error);
      expect((error as Error).message).toMatch(/^The repository tarball from GitHub could not be read: /);
      expect((error as Error).message).toContain(detail);
      expect((error as Error).message).toMatch(/Trigger Code4Py again; if this persists, GitHub sent a damaged archive\.$/);
    });

    it('a download that breaks off', async () => {
      const stream = new Readable({ read() {} });
      stream.push(good.subarray(0, 100));
      setImmediate(() => stream.destroy(new Error('socket hang up')));
      await expect(readRepoTarball(stream)).rejects.toThrow('The repository tarball from GitHub could not be read: the download failed (socket hang up).');
    });

    it('reads no zstd stream inside the gzip (its bytes would escape the count) but takes it for a damaged tar', async () => {
      const tar = rawTar([dir(TOP), text(`${TOP}/a.py`, 'x')]);
      // A zstd frame (RFC 8878) holding the tar as one raw block: magic, a header with a two-byte content size, the last block's header.
      const size = tar.length;
      const frame = Buffer.concat([Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 0x60, (size - 256) & 0xff, (size - 256) >> 8, ((size << 3) | 1) & 0xff, (size >> 5) & 0xff, size >> 13]), tar]);
      await expect(readRepoTarball(gzipSync(frame))).rejects.toThrow('The repository tarball from GitHub could not be read: it is not a valid tar archive (checksum failure).');
    });

    it('refuses a gzip inside the gzip (its bytes would escape the count)', async () => {
      await expect(readRepoTarball(gzipSync(good))).rejects.toThrow('The repository tarball holds another gzip stream instead of a tar archive; GitHub never sends that.');
    });

    it('refuses a gzip inside the gzip whose magic bytes come unpacked one chunk at a time (the parser gathers them before judging)', async () => {
      const inner = gzipSync(good);
      // The outer gzip flushed after each of the inner stream's first two bytes: gunzip hands them out one per chunk.
      const outer = createGzip();
      const pieces: Buffer[] = [];
      outer.on('data', (piece: Buffer) => pieces.push(piece));
      const flushed = () => new Promise<void>((settle) => outer.flush(() => settle()));
      outer.write(inner.subarray(0, 1));
      await flushed();
      const afterFirst = pieces.length;
      outer.write(inner.subarray(1, 2));
      await flushed();
      const afterSecond = pieces.length;
      outer.end(inner.subarray(2));
      await new Promise((settle) => outer.on('end', settle));
      const source = [Buffer.concat(pieces.slice(0, afterFirst)), Buffer.concat(pieces.slice(afterFirst, afterSecond)), Buffer.concat(pieces.slice(afterSecond))];
      await expect(readRepoTarball(Readable.from(source))).rejects.toThrow('The repository tarball holds another gzip stream instead of a tar archive; GitHub never sends that.');
    });

    it('takes a stream of just the two gzip magic bytes for a gzip inside the gzip', async () => {
      await expect(readRepoTarball(gzipSync(Buffer.from([0x1f, 0x8b])))).rejects.toThrow('The repository tarball holds another gzip stream instead of a tar archive; GitHub never sends that.');
    });

    it('a corrupt header checksum', async () => {
      const tar = rawTar([dir(TOP), text(`${TOP}/a.py`, 'x')]);
      tar.writeUInt8(tar.readUInt8(512 + 10) ^ 0xff, 512 + 10);
      await expect(readRepoTarball(gzipSync(tar))).rejects.toThrow('The repository tarball from GitHub could not be read: it is not a valid tar archive (checksum failure).');
    });
  });
});
