// StrykerJS settings shared by every module that `npm run test:mutation` measures (scripts/test-mutation.mjs
// runs one module at a time, with only the test files that import it). Used alone, it measures one module:
// `CODE4PY_MUTATION_TESTS=test/llm/secrets.test.ts npx stryker run --mutate src/llm/secrets.ts`.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // The project's vitest settings, limited to the test files in CODE4PY_MUTATION_TESTS (see that file for why).
  vitest: { configFile: 'stryker.vitest.config.mjs' },
  // Per-test coverage: each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  // The machine is shared: two test runners at most.
  concurrency: 2,
  // Generous, as the machine is shared: a test slowed by load must not count as a timed-out (detected) mutant.
  timeoutMS: 20_000,
  tempDirName: '.stryker/tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['.stryker', 'dist', 'coverage', '.code4py'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.stryker/reports/mutation.html' },
  jsonReporter: { fileName: '.stryker/reports/mutation.json' },
  thresholds: { high: 90, low: 80 },
};
