import { describe, expect, it } from 'vitest';
import { parseValidationConfig } from '../../src/config/load.js';

describe('validation config', () => {
  it('fills every default from an empty file', () => {
    const config = parseValidationConfig('', 'code4py.yml');
    expect(config.tests).toEqual({ timeout_seconds: 180, coverage_min: 80, coverage_fail: false });
    expect(config.security.fail_on).toBe('medium');
  });

  it('reads the keys of .github/code4py.yml and keeps the ones it does not own', () => {
    const config = parseValidationConfig('label: code4py\ntests:\n  timeout_seconds: 5\nsecurity:\n  fail_on: high\n', 'code4py.yml');
    expect(config.tests.timeout_seconds).toBe(5);
    expect(config.security.fail_on).toBe('high');
  });

  it('names the key and the problem', () => {
    expect(() => parseValidationConfig('tests:\n  timeout_seconds: -1\nlint:\n  selct: [E]\n', 'x.yml')).toThrow(
      /x\.yml has invalid settings:\n  - tests\.timeout_seconds: Too small: expected number to be >0\n  - lint: Unrecognized key: "selct"/,
    );
    expect(() => parseValidationConfig('security:\n  fail_on: critical\n', 'x.yml')).toThrow(/security\.fail_on: Invalid option: expected one of "low"\|"medium"\|"high"/);
  });

  it('says where YAML is broken, and that a list is not a config', () => {
    expect(() => parseValidationConfig('tests: [\n', 'x.yml')).toThrow(/x\.yml is not valid YAML at line \d+/);
    expect(() => parseValidationConfig('- a\n- b\n', 'x.yml')).toThrow(/must be a YAML mapping of keys.*not a list/);
  });
});
