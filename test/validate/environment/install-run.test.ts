import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { z } from 'zod';
import type { Sandbox } from '../../../src/sandbox/types.js';
import { readEnvironmentSettings } from '../../../src/validate/environment/env.js';
import { runDriver } from '../../../src/validate/environment/install-run.js';

const failing = vi.hoisted(() => ({ prefix: null as string | null, made: [] as string[] }));
vi.mock('node:fs/promises', async (importOriginal) => {
  const actual = await importOriginal<typeof import('node:fs/promises')>();
  return {
    ...actual,
    mkdtemp: (prefix: string, ...rest: []) => {
      failing.made.push(prefix.slice(prefix.lastIndexOf('/') + 1));
      return failing.prefix && prefix.includes(failing.prefix) ? Promise.reject(new Error('no space left on device')) : actual.mkdtemp(prefix, ...rest);
    },
  };
});

const savedTmp = process.env.TMPDIR;
let tmp: string;
beforeEach(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'code4py-install-run-test-'));
  process.env.TMPDIR = tmp;
});
afterEach(async () => {
  failing.prefix = null;
  failing.made = [];
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  await rm(tmp, { recursive: true, force: true });
});

const noSandbox: Sandbox = { backend: 'bwrap', python: '/usr/bin/python3', limiter: 'rlimit', run: () => Promise.reject(new Error('the sandbox was reached')) };

describe('the install run', () => {
  it('leaves neither its proxy nor the netrc with the index credentials behind when a step before the run fails', async () => {
    failing.prefix = 'code4py-install-tmp-';
    const network = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: 'https://bot:s3cret@pkgs.example.com/simple', CODE4PY_ENV_CACHE_DIR: join(tmp, 'cache') });
    const run = runDriver(z.unknown(), { sandbox: noSandbox, python: '/usr/bin/python3', spec: { mode: 'env' }, workDir: tmp, mounts: [], network, timeoutMs: 1000 });
    await expect(run).rejects.toThrow('no space left on device');
    // The proxy's folder and the netrc's were made before the step that failed, and are gone.
    expect(failing.made).toEqual(expect.arrayContaining(['code4py-proxy-', 'code4py-secret-', 'code4py-install-tmp-']));
    expect(failing.made.indexOf('code4py-install-tmp-')).toBeGreaterThan(Math.max(failing.made.indexOf('code4py-proxy-'), failing.made.indexOf('code4py-secret-')));
    expect(await readdir(tmp)).toEqual([]);
  });
});
