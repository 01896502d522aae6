import type { Mutant, MutationReport } from '../report.js';

/** `no test fails when line 12 `if n < 1:` becomes `if n <= 1:``: one surviving mutant, said plainly. */
export function describeSurvivor(mutant: Pick<Mutant, 'line' | 'original' | 'mutated'>): string {
  return `no test fails when line ${mutant.line} ${code(mutant.original)} becomes ${code(mutant.mutated)}`;
}

/**
 * The surviving mutants, worded for the model's test-strengthening round: one line each, grouped by file,
 * at most `limit` of them (the rest counted). Empty when none survived.
 */
export function survivorsForModel(report: Pick<MutationReport, 'mutants'>, limit = 20): string {
  const survivors = report.mutants.filter((m) => m.status === 'survived');
  if (survivors.length === 0) return '';
  const shown = survivors.slice(0, limit);
  const lines: string[] = [];
  let file: string | null = null;
  for (const mutant of shown) {
    if (mutant.path !== file) {
      file = mutant.path;
      lines.push(`In ${code(file)}:`);
    }
    lines.push(`- ${describeSurvivor(mutant)}`);
  }
  const rest = survivors.length - shown.length;
  if (rest > 0) lines.push(`(and ${rest} more surviving ${rest === 1 ? 'mutant' : 'mutants'})`);
  return lines.join('\n');
}

/** Inline code that its own backticks cannot close: a fence one backtick longer than the longest run inside. */
function code(text: string): string {
  const longest = Math.max(0, ...(text.match(/`+/g) ?? []).map((run) => run.length));
  const fence = '`'.repeat(longest + 1);
  const pad = text.startsWith('`') || text.endsWith('`') ? ' ' : '';
  return `${fence}${pad}${text}${pad}${fence}`;
}
