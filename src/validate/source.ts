import { DEFAULT_TEST_FILES, type TestFileRule } from './test-files.js';

/** One file of the folder under validation, as the stages see it. */
export interface SourceFile {
  /** Relative to the folder, forward slashes. */
  readonly path: string;
  /** The text, or null when the file is not valid UTF-8 (binary data, another encoding). */
  readonly text: string | null;
  readonly bytes: number;
}

/** One `import` found by Python's own parser (python/analyse.py, run in the sandbox). */
export interface ImportRecord {
  readonly path: string;
  readonly line: number;
  /** The dotted module name; for `from . import x` it is '' with level 1. */
  readonly module: string;
  /** 0 for absolute imports, n for n leading dots. */
  readonly level: number;
  /** Inside `try: … except ImportError` (an optional dependency). */
  readonly optional: boolean;
  /** Under `if TYPE_CHECKING:` (never imported at run time). */
  readonly typeChecking: boolean;
}

const TEST_FILE = /(^|\/)(test_[^/]*\.py|[^/]*_test\.py|conftest\.py)$/;
const TEST_DIR = /(^|\/)tests?\//;

/**
 * pytest's default discovery rules, plus files under a `tests/` folder (fixtures and helpers), plus those the
 * project's own `python_files` names (`rule`, from testFileRule).
 */
export function isTestFile(path: string, rule: TestFileRule = DEFAULT_TEST_FILES): boolean {
  return path.endsWith('.py') && (TEST_FILE.test(path) || TEST_DIR.test(path) || rule.matches(path));
}

export function isPythonFile(path: string): boolean {
  return path.endsWith('.py');
}
