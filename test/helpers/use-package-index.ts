import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { buildWheels, servePackageIndex, type FixturePackage, type PackageIndexServer } from './package-index.js';

// Apart from package-index.ts because it registers vitest hooks: the environment benchmark imports that
// file outside vitest, where importing vitest throws.

export interface PackageIndexFixture {
  /** The loopback index serving wheels of the packages. */
  readonly index: PackageIndexServer;
  /** An empty folder, the file's own, for the environments and caches that installs from the index fill. */
  readonly cacheDir: string;
}

/** For every test of the file: an index of `packages` on 127.0.0.1 and a cache folder, both gone after the file. */
export function usePackageIndex(packages: readonly FixturePackage[]): PackageIndexFixture {
  let index: PackageIndexServer | undefined;
  let cacheDir: string | undefined;
  beforeAll(async () => {
    index = await servePackageIndex(await buildWheels(packages));
    cacheDir = await mkdtemp(join(tmpdir(), 'code4py-index-cache-'));
  });
  afterAll(async () => {
    await index?.close();
    if (cacheDir) await rm(cacheDir, { recursive: true, force: true });
  });
  const ready = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('usePackageIndex: the index is ready only inside the tests of the file that called it');
    return value;
  };
  return {
    get index() {
      return ready(index);
    },
    get cacheDir() {
      return ready(cacheDir);
    },
  };
}
