import { describe, expect, it, vi } from 'vitest';
import { ValidationConfigSchema } from '../../../src/config/schema.js';
import type { ReadySandbox } from '../../../src/sandbox/select.js';
import { readEnvironmentSettings } from '../../../src/validate/environment/env.js';
import { prepareEnvironment } from '../../../src/validate/environment/prepare.js';
import { SYSTEM_RUNTIME } from '../../../src/validate/runtime.js';

// Records when the installer (pip's helpers, the cache's locks, the interpreter registry) is loaded.
const loaded = vi.hoisted(() => ({ installer: false }));
vi.mock('../../../src/validate/environment/install.js', async (importOriginal) => {
  loaded.installer = true;
  return importOriginal();
});

// The quick path reads only the sandbox's Python; nothing is run.
const sandbox = { sandbox: { python: '/usr/bin/python3' }, python: { version: '3.11.2' } } as unknown as ReadySandbox;
const file = (path: string, text: string) => ({ path, text, bytes: Buffer.byteLength(text) });

describe('the environment stage with nothing to install', () => {
  it('decides so without loading the installer, and the installer loads once something is declared', async () => {
    const settings = readEnvironmentSettings({ CODE4PY_ENV_CACHE_DIR: '/nonexistent/code4py-envs' });
    const config = ValidationConfigSchema.parse({});
    const env = await prepareEnvironment({ root: '/nonexistent', files: [file('calc.py', 'X = 1\n'), file('test_calc.py', 'def test_x():\n    pass\n')], config }, { sandbox, settings });
    expect(env.stage).toMatchObject({ name: 'environment', status: 'skipped', summary: 'nothing to install' });
    expect(env.runtime).toBe(SYSTEM_RUNTIME);
    expect(loaded.installer).toBe(false);

    // A declared requirement needs the installer (it then fails on this fake sandbox: only the loading matters).
    await prepareEnvironment({ root: '/nonexistent', files: [file('requirements.txt', 'greet\n')], config }, { sandbox, settings }).catch(() => undefined);
    expect(loaded.installer).toBe(true);
  });
});
