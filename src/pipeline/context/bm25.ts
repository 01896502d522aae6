/**
 * Okapi BM25 over words of code: identifiers split at `_` and at case changes (`parseHTTPResponse` →
 * parse, http, response), lower-cased, with a light plural fold so `tokens` finds `token`.
 */

// English glue words of issues, and words every Python file has: they would only add noise to the scores.
const STOP = new Set(
  ('an as at be by do if in is it of on or so to we us me my no our the and for with that this from into are ' +
    'was were not but can will any all its you your use used using each per should would could must need want ' +
    'add make new get set has have how what when which who why way also some than then them they there these ' +
    'def class self cls return import none true false pass elif else try except finally raise while lambda ' +
    'yield async await global nonlocal assert del args kwargs str int float bool list dict set tuple object init')
    .split(' '),
);

export function words(text: string): string[] {
  const out: string[] = [];
  for (const match of text.matchAll(/[A-Za-z][A-Za-z0-9]*/g)) {
    for (const part of match[0].split(/(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])/)) {
      const word = fold(part.toLowerCase());
      if (word.length > 1 && !STOP.has(word)) out.push(word);
    }
  }
  return out;
}

function fold(word: string): string {
  if (word.length > 4 && word.endsWith('ies')) return `${word.slice(0, -3)}y`;
  if (word.length > 3 && word.endsWith('s') && !word.endsWith('ss') && !word.endsWith('us') && !word.endsWith('is')) return word.slice(0, -1);
  return word;
}

export interface Scored {
  readonly id: string;
  readonly score: number;
}

const K1 = 1.2;
const B = 0.75;

/**
 * Each document's BM25 score for the query, best first; ties (and zero scores) in id order, so the same
 * repository and task always give the same ranking.
 */
export function rank(documents: ReadonlyArray<{ id: string; words: readonly string[] }>, query: readonly string[]): Scored[] {
  // A word the task repeats (module name, title, requirements) weighs more: BM25's query-frequency factor.
  const weights = new Map<string, number>();
  for (const w of query) weights.set(w, (weights.get(w) ?? 0) + 1);
  const terms = [...weights.keys()];
  const wanted = new Set(terms);
  const frequencies = documents.map((d) => {
    const counts = new Map<string, number>();
    for (const w of d.words) if (wanted.has(w)) counts.set(w, (counts.get(w) ?? 0) + 1);
    return counts;
  });
  const averageLength = documents.reduce((sum, d) => sum + d.words.length, 0) / Math.max(1, documents.length) || 1;
  const idf = new Map(
    terms.map((t) => {
      const df = frequencies.filter((f) => f.has(t)).length;
      return [t, Math.log(1 + (documents.length - df + 0.5) / (df + 0.5))];
    }),
  );
  return documents
    .map((d, i) => {
      const counts = frequencies[i]!;
      const norm = K1 * (1 - B + (B * d.words.length) / averageLength);
      let score = 0;
      for (const t of terms) {
        const tf = counts.get(t) ?? 0;
        if (tf > 0) score += weights.get(t)! * idf.get(t)! * ((tf * (K1 + 1)) / (tf + norm));
      }
      return { id: d.id, score };
    })
    .sort((a, b) => b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}
