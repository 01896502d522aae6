// The vitest settings StrykerJS runs with: the project's own, limited to the test files named in
// CODE4PY_MUTATION_TESTS (comma-separated; scripts/test-mutation.mjs sets it), or all of them.
// Stryker's `testFiles` option would do the same, but with it StrykerJS 9 runs every mutant with runtime
// activation, so mutants in code that runs as a module loads (its regular expressions, its constants)
// are never switched on and all survive.
import { defineConfig } from 'vitest/config';
import project from './vitest.config.ts';

const only = process.env.CODE4PY_MUTATION_TESTS?.split(',').filter(Boolean);

export default defineConfig({ ...project, test: { ...project.test, include: only?.length ? only : project.test.include } });
