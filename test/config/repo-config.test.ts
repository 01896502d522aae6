import { parse as parseYaml } from 'yaml';
import { describe, expect, it } from 'vitest';
import { defaultRepoConfig, parseRepoConfig, repoConfigJsonSchema, type RepoConfig } from '../../src/config/repo-config.js';
import { defaultValidationConfig } from '../../src/config/schema.js';

function ok(raw: unknown): RepoConfig {
  const result = parseRepoConfig(raw);
  if (!result.ok) throw new Error(`expected a valid config, got:\n${result.message}`);
  return result.config;
}

function problems(raw: unknown): string {
  const result = parseRepoConfig(raw);
  if (result.ok) throw new Error('expected an invalid config');
  return result.message;
}

describe('repository config (.github/code4py.yml)', () => {
  describe('a repository without the file', () => {
    it.each([null, undefined, {}])('gets every default from %j', (raw) => {
      expect(ok(raw)).toEqual({
        ...defaultValidationConfig(),
        label: 'code4py',
        command: '/code4py',
        permission: 'write',
        max_attempts: 3,
        max_tokens_per_task: 200_000,
        paths: { allow: ['**/*.py', 'requirements*.txt'], deny: [], max_files: 20, max_bytes: 512 * 1024 },
        context: { max_tokens: 12_000 },
        draft: false,
      });
    });

    it('has no model, so the operator’s CODE4PY_MODEL is used', () => {
      expect(defaultRepoConfig().model).toBeUndefined();
    });
  });

  it('reads every key of a full file', () => {
    const config = ok(
      parseYaml(`
label: ai-code
command: /bot
permission: maintain
model: gpt-4o-mini
max_attempts: 5
max_tokens_per_task: 50000
draft: true
paths:
  allow: ["src/**/*.py", "tests/**/*.py"]
  deny: ["src/legacy/**"]
  max_files: 5
  max_bytes: 65536
tests:
  timeout_seconds: 30
  coverage_min: 90
lint:
  select: [E, F]
security:
  fail_on: high
dependencies:
  strict: true
limits:
  max_files: 100
`),
    );
    expect(config).toMatchObject({
      label: 'ai-code',
      command: '/bot',
      permission: 'maintain',
      model: 'gpt-4o-mini',
      max_attempts: 5,
      max_tokens_per_task: 50_000,
      draft: true,
      paths: { allow: ['src/**/*.py', 'tests/**/*.py'], deny: ['src/legacy/**'], max_files: 5, max_bytes: 65_536 },
      tests: { timeout_seconds: 30, coverage_min: 90, coverage_fail: false },
      lint: { select: ['E', 'F'] },
      security: { fail_on: 'high' },
      dependencies: { strict: true },
      limits: { max_files: 100, max_file_bytes: 4 * 1024 * 1024, max_total_bytes: 64 * 1024 * 1024 },
    });
  });

  it('fills the defaults of a partly written section', () => {
    expect(ok({ paths: { deny: ['scripts/**'] } }).paths).toEqual({ allow: ['**/*.py', 'requirements*.txt'], deny: ['scripts/**'], max_files: 20, max_bytes: 524_288 });
  });

  it('accepts Probot’s _extends key (Probot removes it before the bot sees the file, editors still show it)', () => {
    expect(ok({ _extends: '.github', max_attempts: 2 }).max_attempts).toBe(2);
  });

  describe('an invalid file', () => {
    it('names every key and its problem in a markdown comment that says how to fix it', () => {
      expect(problems({ max_attempts: 11, permission: 'owner', paths: { alow: ['**/*.py'] }, lint: { selct: ['E'] }, colour: 'blue' })).toBe(
        [
          '⚠️ Code4Py did not start: `.github/code4py.yml` has settings it cannot use.',
          '',
          '```text',
          '  - lint: Unrecognized key: "selct" (selct)',
          '  - permission: Invalid option: expected one of "read"|"triage"|"write"|"maintain"|"admin"',
          '  - max_attempts: Too big: expected number to be <=10',
          '  - paths: Unrecognized key: "alow" (alow)',
          '  - (top level): Unrecognized key: "colour" (colour)',
          '```',
          '',
          'Fix or remove these keys (every key is optional; a key left out takes its default), commit the file, then trigger Code4Py again. The README lists every key with its default.',
        ].join('\n'),
      );
    });

    it.each([
      [{ max_attempts: 0 }, 'max_attempts: Too small: expected number to be >=1'],
      [{ max_attempts: 2.5 }, 'max_attempts: Invalid input: expected int, received number'],
      [{ max_tokens_per_task: 10 }, 'max_tokens_per_task: Too small: expected number to be >=1000'],
      [{ label: '' }, 'label: Too small: expected string to have >=1 characters'],
      [{ label: 'x'.repeat(51) }, 'label: GitHub labels are at most 50 characters'],
      [{ command: 'code4py' }, 'command: a slash and a word of letters, digits, - or _, such as /code4py'],
      [{ command: '/code 4py' }, 'command: a slash and a word of letters, digits, - or _, such as /code4py'],
      [{ model: '' }, 'model: Too small: expected string to have >=1 characters'],
      [{ draft: 'yes' }, 'draft: Invalid input: expected boolean, received string'],
      [{ paths: { allow: [] } }, 'paths.allow: list at least one glob, or leave paths.allow out for the default'],
      [{ paths: { allow: ['  '] } }, 'paths.allow.0: a glob such as src/**/*.py'],
      [{ paths: { deny: 'src/**' } }, 'paths.deny: Invalid input: expected array, received string'],
      [{ paths: { max_files: 0 } }, 'paths.max_files: Too small: expected number to be >=1'],
      [{ paths: { max_bytes: 10 } }, 'paths.max_bytes: Too small: expected number to be >=1024'],
      [{ tests: { timeout_seconds: -1 } }, 'tests.timeout_seconds: Too small: expected number to be >0'],
      [{ security: { fail_on: 'critical' } }, 'security.fail_on: Invalid option: expected one of "low"|"medium"|"high"'],
    ])('%j → %s', (raw, problem) => {
      expect(problems(raw)).toContain(`  - ${problem}\n`);
    });

    it.each([
      ['a list', ['label: x']],
      ['a single string', 'label: x'],
      ['number', 42],
    ])('says the file must be a mapping, not %s', (what, raw) => {
      expect(problems(raw)).toContain(`  - (top level): the file must be a mapping of keys (such as \`max_attempts: 3\`), not ${what}\n`);
    });

    it('keeps key names from the file inside a code block they cannot close', () => {
      const message = problems({ '```\n@everyone': 1 });
      expect(message).toContain('````text\n');
      expect(message).toContain('\n````\n');
    });
  });

  describe('the JSON Schema for editors', () => {
    const schema = repoConfigJsonSchema() as { $schema: string; title: string; type: string; additionalProperties: boolean; properties: Record<string, Record<string, unknown>> };

    it('is a draft-07 schema of a closed object with every key', () => {
      expect(schema.$schema).toBe('http://json-schema.org/draft-07/schema#');
      expect(schema.title).toBe('Code4Py repository configuration (.github/code4py.yml)');
      expect(schema.type).toBe('object');
      expect(schema.additionalProperties).toBe(false);
      expect(Object.keys(schema.properties).sort()).toEqual(
        ['_extends', 'command', 'context', 'dependencies', 'draft', 'environment', 'label', 'limits', 'lint', 'max_attempts', 'max_tokens_per_task', 'model', 'mutation', 'paths', 'permission', 'security', 'tests'].sort(),
      );
    });

    it('requires no key, and carries the defaults, bounds and choices', () => {
      expect(JSON.stringify(schema)).not.toContain('"required"');
      expect(schema.properties.max_attempts).toMatchObject({ type: 'integer', minimum: 1, maximum: 10, default: 3 });
      expect(schema.properties.permission).toMatchObject({ enum: ['read', 'triage', 'write', 'maintain', 'admin'], default: 'write' });
      expect(schema.properties.paths).toMatchObject({
        type: 'object',
        additionalProperties: false,
        properties: { allow: { type: 'array', default: ['**/*.py', 'requirements*.txt'] }, max_bytes: { default: 524_288 } },
      });
    });

    it('describes every key, nested ones included', () => {
      const undescribed: string[] = [];
      const walk = (node: Record<string, unknown>, prefix: string) => {
        for (const [key, child] of Object.entries((node.properties ?? {}) as Record<string, Record<string, unknown>>)) {
          const path = prefix ? `${prefix}.${key}` : key;
          if (typeof child.description !== 'string' || child.description.length < 10) undescribed.push(path);
          walk(child, path);
        }
      };
      walk(schema, '');
      expect(undescribed).toEqual([]);
    });
  });
});
