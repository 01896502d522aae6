import picomatch from 'picomatch';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';

/**
 * Which files are tests beyond pytest's default names: the globs of the project's own `python_files`
 * setting (`tests.py` in Django projects, `test.py`, `check_*.py`). Coverage, mutation testing, the
 * security rules meant for tests and the evidence of a change all tell tests from code with it.
 */
export interface TestFileRule {
  /** The project's `python_files` globs, matched against a file's name as pytest matches them; empty for pytest's defaults. */
  readonly patterns: readonly string[];
  matches(path: string): boolean;
}

export const DEFAULT_TEST_FILES: TestFileRule = { patterns: [], matches: () => false };

/** A file as the validation has it: its text, or its bytes. */
type ProjectFile = { readonly path: string } & ({ readonly text: string | null } | { readonly content: Buffer });

const rules = new WeakMap<readonly ProjectFile[], TestFileRule>();

/**
 * The project's `python_files`, read where pytest reads it in the folder's root: `pytest.ini`,
 * `.pytest.ini`, `pyproject.toml` (`[tool.pytest.ini_options]`), `tox.ini` (`[pytest]`), `setup.cfg`
 * (`[tool:pytest]`); the first of them that configures pytest wins, as in pytest.
 */
export function testFileRule(files: readonly ProjectFile[]): TestFileRule {
  let rule = rules.get(files);
  if (!rule) {
    rule = ruleOf(readPythonFiles(files));
    rules.set(files, rule);
  }
  return rule;
}

function ruleOf(patterns: readonly string[]): TestFileRule {
  if (patterns.length === 0) return DEFAULT_TEST_FILES;
  // pytest matches a glob without a slash against the file's name, one with a slash against its path.
  const matchers = patterns.map((glob) => picomatch(glob, { basename: !glob.includes('/'), dot: true }));
  return { patterns, matches: (path) => path.endsWith('.py') && matchers.some((m) => m(path)) };
}

function readPythonFiles(files: readonly ProjectFile[]): string[] {
  const text = (path: string): string | null => {
    const file = files.find((f) => f.path === path);
    if (!file) return null;
    return 'text' in file ? file.text : file.content.toString('utf8');
  };
  for (const [path, section] of [['pytest.ini', 'pytest'], ['.pytest.ini', 'pytest'], ['pyproject.toml', null], ['tox.ini', 'pytest'], ['setup.cfg', 'tool:pytest']] as const) {
    const content = text(path);
    if (content === null) continue;
    if (section === null) {
      const found = fromPyproject(content);
      if (found) return found;
      continue;
    }
    const values = iniSection(content, section);
    // pytest.ini configures pytest even without a [pytest] section; the others only with theirs.
    if (values) return words(values.get('python_files') ?? '');
    if (path.endsWith('pytest.ini')) return [];
  }
  return [];
}

/** What of pyproject.toml says which files are tests: only the fields read here. */
const PyprojectSchema = z.object({
  tool: z.object({ pytest: z.object({ ini_options: z.object({ python_files: z.union([z.string(), z.array(z.string())]).optional() }) }) }),
});

/** `[tool.pytest.ini_options] python_files`, or null when the file does not configure pytest. */
function fromPyproject(content: string): string[] | null {
  let document: unknown;
  try {
    document = parseToml(content);
  } catch {
    return null; // an unreadable pyproject.toml: pytest says so when it runs
  }
  const parsed = PyprojectSchema.safeParse(document);
  if (!parsed.success) return null;
  const value = parsed.data.tool.pytest.ini_options.python_files ?? [];
  return (typeof value === 'string' ? [value] : value).flatMap(words);
}

/** The keys of one section of an INI file (values continued on indented lines), or null without the section. */
function iniSection(content: string, name: string): Map<string, string> | null {
  let inside = false;
  let found = false;
  let key: string | null = null;
  const values = new Map<string, string>();
  for (const line of content.split(/\r?\n/)) {
    const header = /^\[([^\]]+)\]\s*$/.exec(line.trim());
    if (header && !/^\s/.test(line)) {
      inside = header[1]!.trim() === name;
      found ||= inside;
      key = null;
      continue;
    }
    if (!inside || /^\s*[#;]/.test(line) || line.trim() === '') continue;
    if (/^\s/.test(line) && key !== null) {
      values.set(key, `${values.get(key)} ${line.trim()}`);
      continue;
    }
    const pair = /^([^=:\s]+)\s*[=:]\s*(.*)$/.exec(line);
    key = pair ? pair[1]! : null;
    if (pair) values.set(pair[1]!, pair[2]!.trim());
  }
  return found ? values : null;
}

function words(value: string): string[] {
  return value.split(/\s+/).filter(Boolean);
}
