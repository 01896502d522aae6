/**
 * What Code4Py checks in a repository without Ruff settings of its own (no `[tool.ruff]`, ruff.toml or
 * .ruff.toml), and what `.github/code4py.yml` falls back to for the keys it leaves out.
 */
export const DEFAULT_LINT = {
  /** pycodestyle, Pyflakes, pycodestyle warnings, bugbear, isort, pyupgrade. */
  select: ['E', 'F', 'W', 'B', 'I', 'UP'],
  lineLength: 88,
  /** Report code that `ruff format` would change. */
  format: true,
  /** Lint findings warn; they fail validation only when `lint.fail` says so. */
  fail: false,
} as const;

/** The Python version Ruff 0.17 assumes when nothing names one (ruff-settings.test.ts checks it against Ruff). */
export const RUFF_DEFAULT_TARGET = 'py311';
