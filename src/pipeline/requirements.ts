import { normalizeName } from '../validate/stages/import-names.js';
import { parseRequirementsTxt, requirementName } from '../validate/stages/requirements.js';

/** Where a solution's `dependencies` are declared. */
export const REQUIREMENTS_PATH = 'requirements.txt';

export interface MergedRequirements {
  /** The file with the new requirements appended; null when there is nothing to add. */
  readonly text: string | null;
  /** The requirement lines added, in the model's order. */
  readonly added: readonly string[];
  /** Entries that are not one requirement pip can read (options, several lines, a local folder), with why. */
  readonly refused: ReadonlyArray<{ readonly entry: string; readonly reason: string }>;
}

/**
 * The solution's `dependencies` merged into a requirements file: each entry not yet declared
 * (names compared as PEP 503 says: `PyYAML`, `pyyaml` and `py_yaml` are one project) is appended as one line;
 * what is already there stays as it is. An entry is model output, so it
 * must be a single PEP 508 requirement: no pip options (`--index-url` would redirect every install), no line
 * breaks, no URL or path.
 */
export function mergeRequirements(existing: string | null, dependencies: readonly string[]): MergedRequirements {
  const declared = new Set(existing === null ? [] : parseRequirementsTxt(REQUIREMENTS_PATH, existing).requirements.map((r) => normalizeName(r.name)));
  const added: string[] = [];
  const refused: Array<{ entry: string; reason: string }> = [];
  for (const raw of dependencies) {
    const entry = raw.trim();
    const name = requirementOf(entry);
    if (typeof name !== 'string') {
      refused.push({ entry, reason: name.refused });
      continue;
    }
    const key = normalizeName(name);
    if (declared.has(key)) continue;
    declared.add(key);
    added.push(entry);
  }
  if (added.length === 0) return { text: null, added, refused };
  const base = existing ?? '';
  const separator = base === '' || base.endsWith('\n') ? '' : '\n';
  return { text: `${base}${separator}${added.join('\n')}\n`, added, refused };
}

/** The project an entry requires, or why the entry is not one index requirement. */
function requirementOf(entry: string): string | { refused: string } {
  if (entry.startsWith('-')) return { refused: 'a pip option, not a requirement' };
  if (/[\r\n\\#]/.test(entry)) return { refused: 'not a single requirement line' };
  if (/^[A-Za-z0-9][A-Za-z0-9._-]*\s*(\[[^\]]*\])?\s*@/.test(entry) || /:\/\/|^\.{0,2}\//.test(entry)) {
    return { refused: 'a URL or a path; only index requirements such as requests>=2 are added' };
  }
  return requirementName(entry) || { refused: 'not a requirement pip can read, such as requests>=2' };
}
