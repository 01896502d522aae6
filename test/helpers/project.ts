import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach } from 'vitest';

/** A throwaway folder of files for a test; `cleanup` removes it. */
export async function makeProject(files: Record<string, string | Buffer>): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'code4py-project-'));
  for (const [path, content] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), content);
  }
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A small, correct project: one module and its tests. */
export const GOOD_PROJECT = {
  'calc.py': 'def add(a: int, b: int) -> int:\n    """Add two numbers."""\n    return a + b\n\n\ndef sub(a: int, b: int) -> int:\n    return a - b\n',
  'test_calc.py': 'from calc import add, sub\n\n\ndef test_add():\n    assert add(1, 2) == 3\n\n\ndef test_sub():\n    assert sub(3, 2) == 1\n',
};

export interface TempDirs {
  /** A new empty folder under the system's temporary folder, removed after the test. */
  tempDir(prefix?: string): Promise<string>;
  /** Runs `fn` after the test too; clean-ups run last first, so a server in a folder closes before the folder goes. */
  onCleanup(fn: () => unknown): void;
}

/** Registers, for each test of the file, the removal of the folders it made with `tempDir` (and its other clean-ups). */
export function useTempDirs(): TempDirs {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });
  return {
    async tempDir(prefix = 'code4py-test-') {
      const dir = await mkdtemp(join(tmpdir(), prefix));
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      return dir;
    },
    onCleanup(fn) {
      cleanups.push(fn);
    },
  };
}
