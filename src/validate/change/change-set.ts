import { structuredPatch } from 'diff';
import { isPythonFile, isTestFile } from '../source.js';
import { testFileRule, type TestFileRule } from '../test-files.js';
import { unmatchedLines } from '../text-lines.js';
import { decodeText, type InputFile } from '../workspace.js';

/**
 * The most lines a modified file's diff is worked out for: Myers' diff costs the square of the lines that
 * differ (~0.25 s at 2,000, half a minute for an 8,000-line table rewritten whole).
 */
const MAX_EDIT_LENGTH = 2000;

/** What a change does to a tree of files: which it adds, deletes, and which lines of the others it adds or modifies. */
export interface ChangeSet {
  readonly added: ReadonlySet<string>;
  readonly deleted: ReadonlySet<string>;
  /**
   * Files in both trees whose content differs, with the lines (1-based, in the new file) that the change
   * adds or modifies; an empty set when the difference is in removed lines only. A file that is not text
   * counts as wholly changed (every line).
   */
  readonly modified: ReadonlyMap<string, ReadonlySet<number> | 'all'>;
  /** Which files are tests, by the head's pytest settings (`python_files`). */
  readonly tests: TestFileRule;
}

/** The change from `base` to `head`, by line, as `git diff` sees it. */
export function changeSet(base: readonly InputFile[], head: readonly InputFile[]): ChangeSet {
  const before = new Map(base.map((f) => [f.path, f.content]));
  const after = new Map(head.map((f) => [f.path, f.content]));
  const added = new Set<string>();
  const modified = new Map<string, ReadonlySet<number> | 'all'>();
  for (const [path, content] of after) {
    const old = before.get(path);
    if (old === undefined) added.add(path);
    else if (!old.equals(content)) modified.set(path, changedLines(path, old, content));
  }
  const deleted = new Set([...before.keys()].filter((path) => !after.has(path)));
  return { added, deleted, modified, tests: testFileRule(head) };
}

function changedLines(path: string, old: Buffer, content: Buffer): ReadonlySet<number> | 'all' {
  const before = decodeText(old);
  const after = decodeText(content);
  if (before === null || after === null) return 'all';
  const patch = structuredPatch(path, path, before, after, '', '', { context: 0, maxEditLength: MAX_EDIT_LENGTH });
  // Too many lines differ to diff them in good time: a line is changed when the old file does not have it.
  if (patch === undefined) return new Set(unmatchedLines(after.split('\n'), before.split('\n')).map((i) => i + 1));
  const lines = new Set<number>();
  for (const hunk of patch.hunks) {
    let line = hunk.newStart;
    for (const text of hunk.lines) {
      if (text.startsWith('+')) lines.add(line++);
      else if (!text.startsWith('-') && !text.startsWith('\\')) line++;
    }
  }
  return lines;
}

/** Whether the change adds or modifies `line` of `path` (any line of an added file). */
export function isChangedLine(change: ChangeSet, path: string, line: number): boolean {
  if (change.added.has(path)) return true;
  const lines = change.modified.get(path);
  return lines === 'all' || (lines !== undefined && lines.has(line));
}

/** The lines of `path` that the change adds or modifies, or 'all' for an added (or non-text) file; null when it leaves the file alone. */
export function changedLinesOf(change: ChangeSet, path: string): ReadonlySet<number> | 'all' | null {
  if (change.added.has(path)) return 'all';
  return change.modified.get(path) ?? null;
}

/** The files the change adds or modifies. */
function touchedFiles(change: ChangeSet): string[] {
  return [...change.added, ...change.modified.keys()].sort();
}

/** Non-test Python files the change adds or modifies: the code whose behaviour it changes. */
export function touchedCode(change: ChangeSet): string[] {
  return touchedFiles(change).filter((path) => isPythonFile(path) && !isTestFile(path, change.tests));
}

/** Test files (and their helpers and conftest.py) the change adds or modifies. */
export function touchedTests(change: ChangeSet): string[] {
  return touchedFiles(change).filter((path) => isTestFile(path, change.tests));
}
