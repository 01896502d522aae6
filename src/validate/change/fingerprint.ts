import type { Finding, StageName } from '../report.js';
import { isChangedLine, type ChangeSet } from './change-set.js';

/**
 * The stages whose findings are matched against the base: a finding there is the change's doing only if
 * the base does not have it too.
 */
export const MATCHED_STAGES = ['syntax', 'lint', 'security', 'dependencies'] as const satisfies readonly StageName[];
export type MatchedStage = (typeof MATCHED_STAGES)[number];

/** The lines of a tree's text files, split once, for reading the line a finding is on. */
export class LineIndex {
  private readonly split = new Map<string, readonly string[]>();

  constructor(private readonly texts: ReadonlyMap<string, string | null>) {}

  /** The text of `line` (1-based) of `path`, whitespace normalised; '' when there is none. */
  line(path: string, line: number): string {
    let lines = this.split.get(path);
    if (!lines) {
      lines = (this.texts.get(path) ?? '').split('\n');
      this.split.set(path, lines);
    }
    return (lines[line - 1] ?? '').trim().replace(/\s+/g, ' ');
  }
}

/**
 * What identifies a finding whatever lines were added or removed above it, as code scanning baselines
 * do: the stage, rule, file and the text of its line with whitespace normalised. A finding about a whole
 * file (line 0, or a formatting finding) is identified by its file alone.
 */
function fingerprintKey(stage: MatchedStage, finding: Finding, lines: LineIndex): string {
  const wholeFile = finding.line === 0 || finding.rule === 'format';
  return [stage, finding.rule, finding.path, wholeFile ? '' : lines.line(finding.path, finding.line)].join('\u0000');
}

/** How many findings with each key a tree has (the base's, kept in the baseline). */
export function countKeys(findings: ReadonlyArray<{ readonly stage: MatchedStage; readonly finding: Finding }>, lines: LineIndex): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const { stage, finding } of findings) {
    const key = fingerprintKey(stage, finding, lines);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/**
 * Marks each finding of the change `introduced` or not. Of the findings sharing a key, as many as the base
 * had are pre-existing — those on lines the change left alone first — and the rest are the change's.
 */
export function classifyFindings(stage: MatchedStage, findings: readonly Finding[], base: Readonly<Record<string, number>>, lines: LineIndex, change: ChangeSet): Finding[] {
  const groups = new Map<string, number[]>();
  findings.forEach((finding, index) => {
    const key = fingerprintKey(stage, finding, lines);
    const group = groups.get(key);
    if (group) group.push(index);
    else groups.set(key, [index]);
  });
  const introduced = new Array<boolean>(findings.length).fill(true);
  for (const [key, indexes] of groups) {
    const known = base[key] ?? 0;
    if (known === 0) continue;
    const changed = (i: number): number => Number(isChangedLine(change, findings[i]!.path, findings[i]!.line));
    const unchangedFirst = [...indexes].sort((a, b) => changed(a) - changed(b) || a - b);
    for (const index of unchangedFirst.slice(0, known)) introduced[index] = false;
  }
  return findings.map((finding, index) => ({ ...finding, introduced: introduced[index] ?? true }));
}
