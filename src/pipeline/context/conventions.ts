import type { RepoFile } from '../../llm/index.js';
import { countTokens } from './tokens.js';

/** pytest's default discovery: `test_*.py`, `*_test.py`, and anything in a `tests/` or `test/` folder. */
export function isTestPath(path: string): boolean {
  if (/(^|\/)conftest\.py$/.test(path)) return false;
  return /(^|\/)(test_[^/]*|[^/]*_test)\.py$/.test(path) || /(^|\/)tests?\/.*\.py$/.test(path);
}

/** How many of the most relevant test files are shown as the project's testing style. */
export const TEST_EXAMPLES = 2;

/** The README's opening says how the project is laid out and run; the rest is rarely about conventions. */
export const README_TOKENS = 600;

const README = /^readme(\.(md|rst|txt))?$/i;
const REQUIREMENTS = /^(requirements[^/]*\.txt|requirements\/[^/]+\.txt)$/i;
const CONFTEST = /^([^/]+\/)?conftest\.py$/;

/**
 * The files that say how the project is built and tested, in the order they are offered: packaging and
 * tool settings, dependencies, shared fixtures, the most relevant tests, then the README's opening.
 */
export function conventionFiles(texts: ReadonlyMap<string, string>, rankedTests: readonly string[]): RepoFile[] {
  const paths = [...texts.keys()].sort(byDepthThenPath);
  const pick = (test: (path: string) => boolean): string[] => paths.filter(test);
  const chosen = [
    ...pick((p) => p === 'pyproject.toml' || p === 'setup.cfg'),
    ...pick((p) => REQUIREMENTS.test(p)),
    ...pick((p) => CONFTEST.test(p)),
    ...rankedTests.slice(0, TEST_EXAMPLES),
  ];
  const files: RepoFile[] = chosen.map((path) => ({ path, content: texts.get(path)! }));
  const readme = paths.find((p) => README.test(p));
  if (readme) files.push({ path: readme, content: readmeOpening(texts.get(readme)!) });
  return files;
}

export const README_CUT_MARKER = '… (the README goes on; only its opening is shown)';

/** The README's first lines up to README_TOKENS, cut at a line, and marked as cut when it was. */
export function readmeOpening(text: string, limit = README_TOKENS): string {
  const lines = text.split('\n');
  const kept: string[] = [];
  let used = 0;
  for (const line of lines) {
    const cost = countTokens(`${line}\n`);
    if (used + cost > limit) break;
    kept.push(line);
    used += cost;
  }
  return kept.length === lines.length ? text : `${kept.join('\n').trimEnd()}\n${README_CUT_MARKER}`;
}

function byDepthThenPath(a: string, b: string): number {
  const depth = (p: string) => p.split('/').length;
  return depth(a) - depth(b) || (a < b ? -1 : a > b ? 1 : 0);
}
