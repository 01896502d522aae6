import { z } from 'zod';

/** The default requirements files: the project's own and its test/dev ones. */
export const DEFAULT_REQUIREMENTS_FILES = ['requirements.txt', 'requirements-dev.txt', 'requirements/test*.txt'];
/** The extras and dependency groups installed by default: the ones projects keep their test tools in. */
export const DEFAULT_EXTRAS = ['test', 'tests', 'testing', 'dev'];

/**
 * `environment` in `.github/code4py.yml`: what is installed before the tests run (docs/environments.md).
 * Every key is optional.
 */
export const EnvironmentConfigSchema = z
  .object({
    /** Requirements files to install, as globs relative to the repository's root (pip's requirements file format). */
    requirements: z.array(z.string().min(1)).max(50).default(DEFAULT_REQUIREMENTS_FILES).describe('Requirements files to install, as globs relative to the repository root (pip\'s requirements file format).'),
    /** Extras of `[project.optional-dependencies]` and groups of `[dependency-groups]` installed beside the project's dependencies. */
    extras: z
      .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'an extra or group name such as test'))
      .max(50)
      .default(DEFAULT_EXTRAS)
      .describe('Extras of [project.optional-dependencies] and groups of [dependency-groups] installed beside the project\'s dependencies.'),
    /** Install the project itself (editable) when it has a pyproject.toml, setup.py or setup.cfg at its root. */
    install_project: z.boolean().default(true).describe('Install the project itself, editable, when it has a pyproject.toml, setup.py or setup.cfg at its root.'),
    /**
     * Shell commands run in the install sandbox after the requirements are installed (network: the allowed
     * package hosts only; `pip` is the environment's). They run when the environment is built, not on every
     * run: the environment is cached, keyed by these commands' text among the rest.
     */
    setup: z
      .array(z.string().min(1).max(2000))
      .max(20)
      .default([])
      .describe('Shell commands run in the install sandbox after the requirements are installed, when the environment is built (the allowed package hosts only).'),
    /** Allow source distributions (their build code runs in the install sandbox); by default wheels only. */
    allow_sdist: z.boolean().default(false).describe('Allow source distributions (their build code runs in the install sandbox); by default wheels only.'),
    /** A Python version such as "3.12": the nearest interpreter the operator registered is used, and the report says which. */
    python: z
      // Quoted on purpose: YAML reads an unquoted 3.10 as the number 3.1.
      .string({ error: 'must be a quoted Python version such as "3.12" (unquoted, 3.10 is the number 3.1)' })
      .regex(/^3(\.\d{1,2})?$/, 'a Python version such as "3.12"')
      .optional()
      .describe('A quoted Python version such as "3.12": the nearest interpreter the operator registered is used, and the report says which.'),
    /** Wall-clock seconds one install run may take (building the environment, or installing the project). */
    timeout_seconds: z.number().positive().max(3600).default(600).describe('Wall-clock seconds one install run may take (building the environment, or installing the project).'),
  })
  .strict()
  .prefault({})
  .describe('What is installed before the tests run: the declared dependencies and the project itself (docs/environments.md).');

export type EnvironmentConfig = z.infer<typeof EnvironmentConfigSchema>;
