import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { keptJson } from '../src/json.js';

const Answer = z.object({ version: z.string() });
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-kept-json-'));
});
afterEach(() => rm(dir, { recursive: true, force: true }));

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

  it('still gives the value when its folder cannot be written, and leaves no staging file', async () => {
    const locked = join(dir, 'locked');
    await writeFile(locked, 'a file where the folder should be');
    expect(await keptJson(join(locked, 'sub'), { python: 'a' }, Answer, counted('3.12').compute)).toEqual({ version: '3.12' });
    expect(await readdir(dir)).toEqual(['locked']);
  });
});
