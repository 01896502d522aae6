/**
 * The indexes of the `lines` that are not among `others`, each line of `others` matching one line at most:
 * the lines a rewrite adds or changes, in linear time. What Myers' diff says exactly when few lines differ,
 * and what stands in for it when so many differ that the diff would take seconds (its cost is their square).
 */
export function unmatchedLines(lines: readonly string[], others: readonly string[]): number[] {
  const left = new Map<string, number>();
  for (const line of others) left.set(line, (left.get(line) ?? 0) + 1);
  const unmatched: number[] = [];
  lines.forEach((line, index) => {
    const n = left.get(line) ?? 0;
    if (n > 0) left.set(line, n - 1);
    else unmatched.push(index);
  });
  return unmatched;
}
