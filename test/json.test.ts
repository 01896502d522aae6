import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keptJson } from '../src/json.js';
import { useTempDirs } from './helpers/project.js';

const Answer = z.object({ version: z.string() });
const { tempDir } = useTempDirs();
let dir: string;
beforeEach(async () => {
  dir = await tempDir('code4py-kept-json-');
});

/** A computation that counts its runs. */
function counted(version: string) {
  let runs = 0;
  return { runs: () => runs, compute: async () => (runs++, { version }) };
}

describe('a value kept as JSON', () => {
  it('is computed once per identity and read back after', async () => {
    const first = counted('3.12');
    expect(await keptJson(dir, { python: 'a' }, Answer, first.compute)).toEqual({ version: '3.12' });
    expect(await keptJson(dir, { python: 'a' }, Answer, first.compute)).toEqual({ version: '3.12' });
    expect(first.runs()).toBe(1);
    expect(await keptJson(dir, { python: 'b' }, Answer, counted('3.13').compute)).toEqual({ version: '3.13' });
    expect((await readdir(dir)).filter((f) => f.endsWith('.json'))).toHaveLength(2);
  });

  it('computes again, and rewrites, a file that is not JSON or not of its schema', async () => {
    await keptJson(dir, { python: 'a' }, Answer, counted('3.12').compute);
    const [file] = await readdir(dir);
    await writeFile(join(dir, file!), '{"version": 3');
    const again = counted('3.12');
    expect(await keptJson(dir, { python: 'a' }, Answer, again.compute)).toEqual({ version: '3.12' });
    expect(again.runs()).toBe(1);
    expect(JSON.parse(await readFile(join(dir, file!), 'utf8'))).toEqual({ version: '3.12' });
  });

  it('still gives the value when its folder cannot be written', async () => {
    const locked = join(dir, 'locked');
    await writeFile(locked, 'a file where the folder should be');
    expect(await keptJson(join(locked, 'sub'), { python: 'a' }, Answer, counted('3.12').compute)).toEqual({ version: '3.12' });
    expect(await readdir(dir)).toEqual(['locked']);
  });

  it('leaves no staging file when the written value cannot take its place', async () => {
    await keptJson(dir, { python: 'a' }, Answer, counted('3.12').compute);
    const [file] = await readdir(dir);
    // A folder with something in it where the file goes: the staging file is written, the rename fails.
    await rm(join(dir, file!));
    await mkdir(join(dir, file!));
    await writeFile(join(dir, file!, 'inside'), '');
    const again = counted('3.12');
    expect(await keptJson(dir, { python: 'a' }, Answer, again.compute)).toEqual({ version: '3.12' });
    expect(again.runs()).toBe(1);
    expect(await readdir(dir)).toEqual([file]);
  });
});
