import { FILE_HEADERS_ONLY, formatPatch, structuredPatch } from 'diff';
import type { Finding } from '../report.js';

const MAX_DIFF_LINES = 80;

/** One finding per file, at the first line `ruff format` changes, with the diff to apply. */
export function formatFinding(path: string, before: string, after: string, severity: Finding['severity']): Finding {
  const patch = structuredPatch(path, path, before, after, '', '', { context: 2 });
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
