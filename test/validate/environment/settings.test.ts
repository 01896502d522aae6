import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/errors.js';
import { botCacheDir, cliCacheDir, readEnvironmentSettings } from '../../../src/validate/environment/env.js';
import { environmentPort } from '../../../src/validate/environment/port.js';
import { nearest } from '../../../src/validate/environment/pythons.js';
import type { ReadySandbox } from '../../../src/sandbox/select.js';

/** The port's identity is its settings': no sandbox is reached for it. */
const unusedSandbox = new Proxy({}, { get: () => { throw new Error('the sandbox was used'); } }) as ReadySandbox;

describe('environment settings (operator variables)', () => {
  it('defaults to PyPI and its file host, the CLI cache folder and 5 GiB', () => {
    const settings = readEnvironmentSettings({ XDG_CACHE_HOME: '/var/cache/me' });
    expect(settings.index).toMatchObject({ url: 'https://pypi.org/simple', host: 'pypi.org', port: 443, credentials: null });
    expect(settings.allowedHosts).toEqual([
      { host: 'pypi.org', port: 443 },
      { host: 'files.pythonhosted.org', port: 443 },
    ]);
    expect(settings.cacheDir).toBe('/var/cache/me/code4py/envs');
    expect(settings.cacheMaxBytes).toBe(5120 * 1024 * 1024);
    expect(settings.pythons).toEqual([]);
  });

  it('allows the configured indexes and hosts only', () => {
    const settings = readEnvironmentSettings({
      CODE4PY_PIP_INDEX_URL: 'https://pkgs.example.com/pypi/simple',
      CODE4PY_PIP_EXTRA_INDEX_URL: 'http://mirror.internal:8080/simple, https://other.example/simple',
      CODE4PY_ALLOWED_HOSTS: 'files.example.com cdn.example.com:8443',
      CODE4PY_PYTHONS: '/usr/bin/python3.12:/opt/py313/bin/python3',
      CODE4PY_ENV_CACHE_DIR: '/srv/envs',
      CODE4PY_ENV_CACHE_MAX_MB: '100',
    });
    expect(settings.allowedHosts).toEqual([
      { host: 'pkgs.example.com', port: 443 },
      { host: 'mirror.internal', port: 8080 },
      { host: 'other.example', port: 443 },
      { host: 'files.example.com', port: 443 },
      { host: 'cdn.example.com', port: 8443 },
    ]);
    expect(settings.pythons).toEqual(['/usr/bin/python3.12', '/opt/py313/bin/python3']);
    expect(settings).toMatchObject({ cacheDir: '/srv/envs', cacheMaxBytes: 100 * 1024 * 1024 });
  });

  it('keeps index credentials out of the URL, of JSON and of inspection', () => {
    const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: 'https://bot:s3cr%40t@pkgs.example.com/simple' });
    expect(settings.index.url).toBe('https://pkgs.example.com/simple');
    expect(settings.index.credentials).toMatchObject({ username: 'bot', password: 's3cr@t' });
    expect(JSON.stringify(settings)).not.toContain('s3cr');
    expect(inspect(settings, { depth: 10 })).not.toContain('s3cr');
  });

  it("names the environment port by its indexes, hosts and interpreters, never by the indexes' credentials", () => {
    const identity = (env: NodeJS.ProcessEnv) => environmentPort(unusedSandbox, readEnvironmentSettings(env)).identity;
    const withSecret = identity({ CODE4PY_PIP_INDEX_URL: 'https://bot:s3cr%40t@pkgs.example.com/simple' });
    expect(withSecret).toContain('https://pkgs.example.com/simple');
    expect(withSecret).not.toContain('s3cr');
    expect(withSecret).toBe(identity({ CODE4PY_PIP_INDEX_URL: 'https://bot:other@pkgs.example.com/simple' }));
    expect(withSecret).not.toBe(identity({ CODE4PY_PIP_INDEX_URL: 'https://pkgs.example.com/simple', CODE4PY_PIP_EXTRA_INDEX_URL: 'https://more.example.com/simple' }));
    expect(identity({})).not.toBe(identity({ CODE4PY_PYTHONS: '/usr/bin/python3.12' }));
  });

  it('says which variable is wrong without repeating its value', () => {
    const read = () => readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: 'ftp://user:hunter2@x/simple' });
    expect(read).toThrow(UsageError);
    expect(read).toThrow(/^CODE4PY_PIP_INDEX_URL: must be an http\(s\) URL/);
    expect(read).not.toThrow(/hunter2/);
    expect(() => readEnvironmentSettings({ CODE4PY_PYTHONS: 'python3' })).toThrow(/CODE4PY_PYTHONS: must be absolute paths/);
    expect(() => readEnvironmentSettings({ CODE4PY_ENV_CACHE_MAX_MB: 'lots' })).toThrow(/CODE4PY_ENV_CACHE_MAX_MB/);
  });

  it('puts the bot\'s cache beside its store, and the CLI\'s in the user cache folder', () => {
    expect(botCacheDir('.code4py/code4py.db')).toBe('.code4py/envs');
    expect(cliCacheDir({ HOME: '/home/ann' } as NodeJS.ProcessEnv)).toMatch(/\.cache\/code4py\/envs$/);
  });
});

describe('choosing a Python', () => {
  const at = (version: string) => ({ facts: { version }, id: version });
  it('takes the same minor version, else the nearest minor, the newer on a tie', () => {
    const candidates = [at('3.10.4'), at('3.11.2'), at('3.13.0')];
    expect(nearest('3.11', candidates).id).toBe('3.11.2');
    expect(nearest('3.12', candidates).id).toBe('3.13.0');
    expect(nearest('3.9', candidates).id).toBe('3.10.4');
    expect(nearest('3', candidates).id).toBe('3.10.4');
  });
});
