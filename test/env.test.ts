import { describe, expect, it } from 'vitest';
import { readEnv } from '../src/env.js';

describe('the environment', () => {
  it('gives the defaults of DESIGN.md §3', () => {
    expect(readEnv({ OPENAI_API_KEY: 'sk-x' })).toMatchObject({
      CODE4PY_MODEL: 'gpt-4o-mini',
      CODE4PY_DB_PATH: '.code4py/code4py.db',
      CODE4PY_SANDBOX: 'auto',
      CODE4PY_PYTHON: '/usr/bin/python3',
      CODE4PY_CONCURRENCY: 2,
    });
  });

  it('names every variable that is wrong, and what to set', () => {
    expect(() => readEnv({ OPENAI_BASE_URL: 'localhost:11434', CODE4PY_SANDBOX: 'chroot', CODE4PY_CONCURRENCY: 'many' })).toThrow(
      /OPENAI_API_KEY: required: set OPENAI_API_KEY[\s\S]*OPENAI_BASE_URL: must be an http\(s\) URL[\s\S]*CODE4PY_SANDBOX: [\s\S]*CODE4PY_CONCURRENCY: /,
    );
  });

  it('treats an empty variable as unset', () => {
    expect(readEnv({ OPENAI_API_KEY: 'k', CODE4PY_MODEL: '' }).CODE4PY_MODEL).toBe('gpt-4o-mini');
  });
});
