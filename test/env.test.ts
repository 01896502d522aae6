import { describe, expect, it } from 'vitest';
import { readEnv } from '../src/env.js';

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
