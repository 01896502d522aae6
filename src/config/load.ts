import { readFile } from 'node:fs/promises';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import type { z } from 'zod';
import { UsageError } from '../errors.js';
import { ValidationConfigSchema, type ValidationConfig } from './schema.js';

/**
 * Parses a config document (the YAML of `.github/code4py.yml`; JSON is YAML too). The error names the
 * key and the problem, e.g. `tests.timeout_seconds: Too small: expected number to be >0`.
 */
export function parseValidationConfig(text: string, source: string): ValidationConfig {
  const document = parseYamlDocument(text, source);
  if (typeof document !== 'object' || document === null || Array.isArray(document)) {
    throw new UsageError(`${source} must be a YAML mapping of keys (such as tests: and lint:), not ${Array.isArray(document) ? 'a list' : typeof document}.`);
  }
  const parsed = ValidationConfigSchema.safeParse(document);
  if (!parsed.success) throw new UsageError(`${source} has invalid settings:\n${describeIssues(parsed.error.issues)}`);
  return parsed.data;
}

/** A YAML document (an empty one is `{}`); a syntax error is a usage error naming `source` and the line. */
export function parseYamlDocument(text: string, source: string): unknown {
  try {
    return parseYaml(text, { maxAliasCount: 100 }) ?? {};
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` at line ${error.linePos[0].line}` : '';
    throw new UsageError(`${source} is not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`);
  }
}

export async function loadValidationConfig(path: string): Promise<ValidationConfig> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the config file ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  return parseValidationConfig(text, path);
}

/** One line per problem: `key.path: message`. */
export function describeIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues
    .map((issue) => {
      const key = issue.path.map(String).join('.') || '(top level)';
      const extra = issue.code === 'unrecognized_keys' ? ` (${issue.keys.join(', ')})` : '';
      return `  - ${key}: ${issue.message}${extra}`;
    })
    .join('\n');
}
