import { existsSync } from 'node:fs';
import { readdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ValidationConfigSchema, defaultValidationConfig } from '../../src/config/schema.js';
import { UsageError } from '../../src/errors.js';
import { copyFolder, writeWorkspace } from '../../src/validate/workspace.js';
import { makeProject, useTempDirs } from '../helpers/project.js';

const { onCleanup } = useTempDirs();

async function project(files: Record<string, string | Buffer>) {
  const p = await makeProject(files);
  onCleanup(p.cleanup);
  return p.dir;
}

describe('the work folder copy', () => {
  it('copies the files, decodes text, and leaves out caches and environments', async () => {
    const dir = await project({ 'a.py': 'x = 1\n', 'pkg/b.py': 'y = 2\n', '.git/config': 'x', '__pycache__/a.pyc': 'x', '.venv/lib.py': 'x', 'logo.png': Buffer.from([0x89, 0x50, 0x00, 0xff]) });
    const ws = await copyFolder(dir, defaultValidationConfig());
    try {
      expect(ws.files.map((f) => f.path)).toEqual(['a.py', 'logo.png', 'pkg/b.py']);
      expect(ws.files.find((f) => f.path === 'logo.png')?.text).toBeNull();
      expect(await readFile(join(ws.root, 'pkg/b.py'), 'utf8')).toBe('y = 2\n');
    } finally {
      await ws.dispose();
    }
    expect(existsSync(ws.root)).toBe(false);
  });

  it('never follows a symbolic link out of the folder', async () => {
    const outside = await project({ 'secret.txt': 'host secret' });
    const dir = await project({ 'a.py': 'x = 1\n' });
    await symlink(join(outside, 'secret.txt'), join(dir, 'secret.py'));
    await symlink(outside, join(dir, 'linked-dir'));
    const ws = await copyFolder(dir, defaultValidationConfig());
    try {
      expect(await readdir(ws.root)).toEqual(['a.py']);
      expect(ws.notes.map((n) => [n.path, n.rule])).toEqual([
        ['linked-dir', 'symlink'],
        ['secret.py', 'symlink'],
      ]);
    } finally {
      await ws.dispose();
    }
  });

  it('leaves out a file over the size limit and says so (an error for Python code)', async () => {
    const dir = await project({ 'big.py': `x = "${'a'.repeat(10 * 1024 * 1024)}"\n`, 'data.csv': 'a'.repeat(5 * 1024 * 1024), 'ok.py': 'x = 1\n' });
    const ws = await copyFolder(dir, defaultValidationConfig());
    try {
      expect(ws.files.map((f) => f.path)).toEqual(['ok.py']);
      expect(ws.notes).toEqual([
        expect.objectContaining({ path: 'big.py', rule: 'file-too-large', severity: 'error', message: expect.stringMatching(/big\.py is larger than 4 MiB.*raise limits\.max_file_bytes/) }),
        expect.objectContaining({ path: 'data.csv', rule: 'file-too-large', severity: 'warning' }),
      ]);
    } finally {
      await ws.dispose();
    }
  });

  it('refuses a missing folder, a file, or too many files, with what to do', async () => {
    await expect(copyFolder('/nonexistent/code4py', defaultValidationConfig())).rejects.toThrow(/does not exist\. Give the folder/);
    const dir = await project({ 'a.py': '' });
    await expect(copyFolder(join(dir, 'a.py'), defaultValidationConfig())).rejects.toThrow(/is not a folder/);
    const many = await project(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m${i}.py`, ''])));
    const config = ValidationConfigSchema.parse({ limits: { max_files: 10 } });
    await expect(copyFolder(many, config)).rejects.toThrow(UsageError);
    await expect(copyFolder(many, config)).rejects.toThrow(/more than 10 files.*limits\.max_files/);
  });

  it('leaves nothing behind when it refuses', async () => {
    const many = await project(Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m${i}.py`, 'x = 1\n'])));
    const privateTmp = await project({});
    const saved = process.env.TMPDIR;
    process.env.TMPDIR = privateTmp;
    try {
      await expect(copyFolder(many, ValidationConfigSchema.parse({ limits: { max_total_bytes: 20 } }))).rejects.toThrow(/more than 20 bytes of files/);
      await expect(writeWorkspace([{ path: 'ok.py', content: Buffer.from('') }, { path: '../escape.py', content: Buffer.from('') }])).rejects.toThrow(UsageError);
    } finally {
      if (saved === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = saved;
    }
    expect(await readdir(privateTmp)).toEqual([]);
  });

  it('refuses paths that leave the folder', async () => {
    for (const path of ['../x.py', '/etc/x.py', 'a//b.py', 'a/../../b.py']) {
      await expect(writeWorkspace([{ path, content: Buffer.from('') }])).rejects.toThrow(/paths must be relative/);
    }
  });
});

