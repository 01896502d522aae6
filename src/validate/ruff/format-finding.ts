import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import type { Finding } from '../report.js';
import { unmatchedLines } from '../text-lines.js';

const MAX_DIFF_LINES = 80;
/**
 * The most lines a formatting diff is worked out for. Myers' diff costs the square of the lines that differ:
 * ~0.1 s at 1,000, ~30 s for a generated 8,000-line table that the formatter rewrites whole (idna's). The
 * finding shows 80 diff lines at most, so a larger rewrite is counted, not diffed.
 */
const MAX_EDIT_LENGTH = 1000;

/** One finding per file, at the first line `ruff format` changes, with the diff to apply. */
export function formatFinding(path: string, before: string, after: string, severity: Finding['severity']): Finding {
  const patch = structuredPatch(path, path, before, after, '', '', { context: 2, maxEditLength: MAX_EDIT_LENGTH });
  if (patch === undefined) return rewriteFinding(path, before, after, severity);
  const first = patch.hunks[0];
  let line = first?.oldStart ?? 1;
  for (const change of first?.lines ?? []) {
    if (!change.startsWith(' ')) break;
    line++;
  }
  const count = (lines: readonly string[], sign: string): number => lines.filter((l) => l.startsWith(sign)).length;
  const changed = patch.hunks.reduce((n, h) => n + Math.max(count(h.lines, '-'), count(h.lines, '+')), 0);
  const diff = formatPatch(patch, FILE_HEADERS_ONLY).trimEnd().split('\n');
  const shown = diff.length > MAX_DIFF_LINES ? [...diff.slice(0, MAX_DIFF_LINES), `… ${diff.length - MAX_DIFF_LINES} more diff lines`] : diff;
  return {
    path,
    line: Math.max(1, line),
    rule: 'format',
    message: `\`ruff format\` would reformat this file (${changed} ${changed === 1 ? 'line' : 'lines'} changed)`,
    severity,
    details: shown.join('\n'),
  };
}

/** A file the formatter changes too much to diff here: where it starts and about how much, and how to see it. */
function rewriteFinding(path: string, before: string, after: string, severity: Finding['severity']): Finding {
  const old = before.split('\n');
  const now = after.split('\n');
  let first = 0;
  while (first < old.length && old[first] === now[first]) first++;
  const changed = unmatchedLines(now, old).length;
  return {
    path,
    line: first + 1,
    rule: 'format',
    message: `\`ruff format\` would reformat this file (about ${changed} lines changed)`,
    severity,
    details: `The diff is too large to show here (more than ${MAX_EDIT_LENGTH} lines differ): run \`ruff format --diff ${path}\` to see it.`,
  };
}
