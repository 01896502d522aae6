// StrykerJS settings shared by every module that `npm run test:mutation` measures (scripts/test-mutation.mjs
// runs one module at a time, with only the test files that import it). Used alone
// (`npx stryker run --mutate src/llm/secrets.ts --testFiles test/llm/secrets.test.ts`) it measures one module.

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  plugins: ['@stryker-mutator/vitest-runner'],
  // Per-test coverage: each mutant runs only the tests that reach it.
  coverageAnalysis: 'perTest',
  // The machine is shared: two test runners at most.
  concurrency: 2,
  // Tarball tests stream tens of MiB; a mutant that slows them must not pass for a timeout.
  timeoutMS: 20_000,
  tempDirName: '.stryker/tmp',
  cleanTempDir: 'always',
  ignorePatterns: ['.stryker', 'dist', 'coverage', '.code4py'],
  reporters: ['clear-text', 'progress', 'html', 'json'],
  htmlReporter: { fileName: '.stryker/reports/mutation.html' },
  jsonReporter: { fileName: '.stryker/reports/mutation.json' },
  thresholds: { high: 90, low: 80 },
};
