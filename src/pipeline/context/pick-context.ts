import type { Analysis, RepoFile } from '../../llm/index.js';
import { decodeText, type InputFile } from '../../validate/workspace.js';

const CONVENTIONS = /(^|\/)(requirements[^/]*\.txt|pyproject\.toml|setup\.cfg|conftest\.py|README(\.md|\.rst|\.txt)?)$/i;

/**
 * Repository files to show the model beside the task, within a character budget: the project's conventions
 * (requirements, pyproject, README, conftest) first, then the Python files whose names share words with
 * the task, smallest first. (Ranking by content and a real tokenizer come with the context stage.)
 */
export function pickContext(files: readonly InputFile[], analysis: Analysis, budgetChars = 24_000): RepoFile[] {
  const words = new Set(
    [analysis.module, analysis.title, ...analysis.requirements]
      .join(' ')
      .toLowerCase()
      .split(/[^a-z0-9]+/)
      .filter((w) => w.length > 2),
  );
  const score = (path: string): number => {
    if (CONVENTIONS.test(path)) return 100;
    const parts = path.toLowerCase().split(/[^a-z0-9]+/);
    return parts.filter((p) => words.has(p)).length;
  };
  const candidates = files
    .filter((f) => f.path.endsWith('.py') || CONVENTIONS.test(f.path))
    .map((f) => ({ path: f.path, text: decodeText(f.content), score: score(f.path) }))
    .filter((f): f is { path: string; text: string; score: number } => f.text !== null)
    .sort((a, b) => b.score - a.score || a.text.length - b.text.length || a.path.localeCompare(b.path));
  const picked: RepoFile[] = [];
  let used = 0;
  for (const file of candidates) {
    if (used + file.text.length > budgetChars) continue;
    picked.push({ path: file.path, content: file.text });
    used += file.text.length;
  }
  return picked;
}
