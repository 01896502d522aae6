import { z } from 'zod';
import { EnvironmentConfigSchema } from '../validate/environment/config.js';
import { MutationConfigSchema } from '../validate/mutation/config.js';

/** Bandit's severity levels, as Ruff's `S` rules carry them. */
export const SECURITY_LEVELS = ['low', 'medium', 'high'] as const;
export type SecurityLevel = (typeof SECURITY_LEVELS)[number];

/**
 * The part of `.github/code4py.yml` (or `code4py validate --config FILE`) that steers validation.
 * Every key is optional; the defaults are what a maintainer who wrote nothing gets.
 */
export const ValidationConfigSchema = z
  .object({
    tests: z
      .object({
        /** Wall-clock seconds the whole test run may take before it is killed. */
        timeout_seconds: z.number().positive().max(3600).default(180),
        /** Coverage of the non-test files below which the coverage stage warns (or fails, see `fail`). */
        coverage_min: z.number().min(0).max(100).default(80),
        /** When true, coverage below `coverage_min` fails validation instead of warning. */
        coverage_fail: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    lint: z
      .object({
        /**
         * Ruff rule codes or prefixes to check, instead of the repository's own selection (as Ruff's `--select`).
         * Left out: the repository's Ruff settings, else Code4Py's default (E, F, W, B, I, UP).
         */
        select: z.array(z.string().regex(/^[A-Z]+[0-9]*$/, 'a Ruff rule code or prefix such as E501 or F')).optional(),
        /** Ruff rule codes or prefixes to leave out, on top of the repository's own selection (as Ruff's `--ignore`). */
        ignore: z.array(z.string().regex(/^[A-Z]+[0-9]*$/, 'a Ruff rule code or prefix such as E501 or F')).optional(),
        /** Maximum line length, instead of the repository's `line-length` (left out: the repository's, else 88). */
        line_length: z.number().int().min(40).max(320).optional(),
        /** Whether code that `ruff format` would change is reported (left out: true). */
        format: z.boolean().optional(),
        /** When true, lint findings fail validation instead of warning (left out: false). */
        fail: z.boolean().optional(),
      })
      .strict()
      .prefault({}),
    security: z
      .object({
        /** The lowest bandit severity that fails validation; lower ones are warnings. */
        fail_on: z.enum(SECURITY_LEVELS).default('medium'),
        /** Security rules to leave out (e.g. S311 where randomness is not for secrets). */
        ignore: z.array(z.string().regex(/^S[0-9]+$/, 'a Ruff security rule code such as S311')).default([]),
      })
      .strict()
      .prefault({}),
    dependencies: z
      .object({
        /** When true, a third-party import that no requirement declares fails validation. */
        strict: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    environment: EnvironmentConfigSchema,
    limits: z
      .object({
        /** Files larger than this are not copied into the sandbox. */
        max_file_bytes: z.number().int().positive().default(4 * 1024 * 1024),
        /** The folder may hold at most this many files (after ignored folders). */
        max_files: z.number().int().positive().default(5000),
        /** The folder may hold at most this many bytes in all. */
        max_total_bytes: z.number().int().positive().default(64 * 1024 * 1024),
        /** Memory (MiB) for each sandboxed run, all its processes together; up to the operator's CODE4PY_MAX_MEMORY_MB. */
        memory_mb: z.number().int().min(64).max(1024 * 1024).default(1024),
        /** Processes and threads for each sandboxed run, all together; up to the operator's CODE4PY_MAX_PROCESSES. */
        processes: z.number().int().min(16).max(100_000).default(256),
        /** Output (MiB) kept of each stream of a run; up to the operator's CODE4PY_MAX_OUTPUT_MB. */
        output_mb: z.number().int().min(1).max(1024).default(1),
      })
      .strict()
      .prefault({}),
    mutation: MutationConfigSchema,
  })
  .passthrough();

export type ValidationConfig = z.infer<typeof ValidationConfigSchema>;

export function defaultValidationConfig(): ValidationConfig {
  return ValidationConfigSchema.parse({});
}
