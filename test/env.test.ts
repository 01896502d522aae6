import { describe, expect, it } from 'vitest';
import { readEnv } from '../src/env.js';
import { environmentSettingsOf, readEnvironmentSettings } from '../src/validate/environment/env.js';
import { operatorLimitsOf, readOperatorLimits } from '../src/validate/limits.js';

describe('the environment', () => {
  it('gives the defaults, with nothing set at all (setup mode needs nothing)', () => {
    expect(readEnv({})).toMatchObject({
      CODE4PY_ROLE: 'all',
      CODE4PY_MODEL: 'gpt-4o-mini',
      CODE4PY_DB_PATH: '.code4py/code4py.db',
      CODE4PY_SANDBOX: 'auto',
      CODE4PY_PYTHON: '/usr/bin/python3',
      CODE4PY_CONCURRENCY: 2,
    });
  });

  it('names every variable that is wrong, and what to set', () => {
    expect(() => readEnv({ OPENAI_BASE_URL: 'localhost:11434', CODE4PY_SANDBOX: 'chroot', CODE4PY_CONCURRENCY: 'many' })).toThrow(
      /OPENAI_BASE_URL: must be an http\(s\) URL[\s\S]*CODE4PY_SANDBOX: [\s\S]*CODE4PY_CONCURRENCY: /,
    );
  });

  it("gives the worker the same limits and pip settings as the validator's own readers, parsed once", () => {
    const raw = { CODE4PY_MAX_MEMORY_MB: '512', CODE4PY_MAX_PROCESSES: '', CODE4PY_PIP_INDEX_URL: 'https://user:secret@pypi.example.com/simple', CODE4PY_PIP_EXTRA_INDEX_URL: 'https://more.example.com/simple', CODE4PY_ALLOWED_HOSTS: 'files.example.com', CODE4PY_ENV_CACHE_MAX_MB: '64' };
    const env = readEnv(raw);
    expect(operatorLimitsOf(env)).toEqual(readOperatorLimits(raw));
    expect(operatorLimitsOf(env)).toMatchObject({ memoryMb: 512 });
    expect(environmentSettingsOf(env, '/srv/code4py/envs')).toEqual({ ...readEnvironmentSettings(raw), cacheDir: '/srv/code4py/envs' });
    expect(environmentSettingsOf(env, '/srv/code4py/envs')).toMatchObject({ cacheDir: '/srv/code4py/envs', cacheMaxBytes: 64 * 1024 * 1024 });
  });

  it('treats an empty variable as unset', () => {
    expect(readEnv({ OPENAI_API_KEY: 'k', CODE4PY_MODEL: '' }).CODE4PY_MODEL).toBe('gpt-4o-mini');
  });

  it('reads Redis mode, the roles and the fairness settings', () => {
    expect(readEnv({ OPENAI_API_KEY: 'k', REDIS_URL: 'redis://redis:6379', CODE4PY_ROLE: 'worker', CODE4PY_DAILY_TOKENS_PER_INSTALLATION: '500000' })).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      CODE4PY_ROLE: 'worker',
      CODE4PY_INSTALLATION_CONCURRENCY: 4,
      CODE4PY_DAILY_TOKENS_PER_INSTALLATION: 500_000,
      CODE4PY_SHUTDOWN_GRACE_SECONDS: 25,
    });
  });

  it('refuses split roles without Redis, and a URL that is not Redis', () => {
    expect(() => readEnv({ OPENAI_API_KEY: 'k', CODE4PY_ROLE: 'worker' })).toThrow(/CODE4PY_ROLE: worker needs REDIS_URL/);
    expect(() => readEnv({ OPENAI_API_KEY: 'k', REDIS_URL: 'http://redis:6379' })).toThrow(/REDIS_URL: must be a Redis URL such as redis:\/\/localhost:6379/);
    expect(() => readEnv({ OPENAI_API_KEY: 'k', CODE4PY_ROLE: 'both' })).toThrow(/CODE4PY_ROLE: must be all, intake or worker/);
  });
});
