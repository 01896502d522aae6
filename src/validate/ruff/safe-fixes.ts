import type { RuffDiagnostic, RuffEdit } from './ruff-protocol.js';

// Ruff's WebAssembly build gives each diagnostic's fix (its edits) but not its applicability, so `ruff
// check --fix` (safe fixes only) cannot be reproduced by asking Ruff. Instead this table says which
// rules' fixes Ruff marks safe. It was derived from Ruff's source (crates/ruff_linter, 0.16–0.17): a rule
// is listed as always safe when its documentation has no "Fix safety" section and its implementation
// builds fixes only with `Fix::safe_edit(s)`; the conditional ones below were read from their "Fix
// safety" sections and code. A rule missing from the table keeps its finding: leaving a safe fix
// unapplied costs a warning, applying an unsafe one could change what the code does.

const ALWAYS_SAFE = new Set(
  `AIR301 AIR311 COM812 COM819
  D201 D202 D203 D204 D205 D207 D208 D209 D210 D211 D212 D213 D214 D215 D300 D403 D405 D406 D407 D408 D409 D410 D411 D412 D413 D416
  E201 E202 E203 E204 E211 E221 E222 E223 E224 E225 E226 E227 E228 E231 E241 E242 E251 E252 E261 E262 E265 E266 E271 E272 E273 E274 E275
  E301 E302 E303 E304 E305 E306 E401 E502 E703 E713 E714
  F541 F632 F811 F901 FURB152 FURB156 FURB167 I001 I002 ISC001 ISC003 LOG009 NPY001 NPY003 PIE800 PIE807 PIE808
  PLC0208 PLE2510 PLE2512 PLE2513 PLE2514 PLE2515 PLR0202 PLR0203 PLR0402 PLR1711 PLR1716 PLR1733 PLR1736 PLR2044 PLR5501 PLW0120 PLW0245
  PYI009 PYI010 PYI011 PYI012 PYI013 PYI014 PYI015 PYI020 PYI026 PYI029 PYI032 PYI036 PYI044 PYI053 PYI054 PYI064
  Q000 Q001 Q002 Q003 Q004 RUF021 RUF031 RUF047 RUF072 RUF101 RUF105 RUF201 SIM114 SIM117 SIM300 TC005 TD006
  UP001 UP003 UP005 UP009 UP011 UP012 UP015 UP019 UP021 UP023 UP024 UP025 UP026 UP032 UP034 UP035 UP048 UP051
  W292 W391 W605`.split(/\s+/),
);

/** Safe unless the fix would delete a comment. */
const SAFE_UNLESS_COMMENT = new Set(['B013', 'UP004', 'UP010', 'UP017', 'UP018', 'UP020', 'UP033', 'UP039', 'UP041', 'UP043']);

/** What decides the conditional rules. */
export interface FixContext {
  readonly path: string;
  /** Ruff's name of the file's Python version, e.g. `py311`. */
  readonly targetVersion: string;
  /** Ruff's preview mode: some of its fixes then add imports that change every annotation of the file. */
  readonly preview: boolean;
}

/** Whether Ruff would apply this diagnostic's fix with `ruff check --fix` (no `--unsafe-fixes`). */
function isSafeFix(diagnostic: RuffDiagnostic, text: string, context: FixContext, index = lineIndex(text)): boolean {
  const code = diagnostic.code;
  const edits = diagnostic.fix?.edits;
  if (!code || !edits || edits.length === 0) return false;
  if (ALWAYS_SAFE.has(code)) return true;
  const removesComment = (): boolean => edits.some((edit) => deletesComment(text, index, edit));
  if (SAFE_UNLESS_COMMENT.has(code)) return !removesComment();
  const modern = minorOf(context.targetVersion) >= 10 && !context.preview;
  switch (code) {
    case 'F401': // Removing an import from __init__.py can break the package's public interface.
      return !/(^|\/)__init__\.py$/.test(context.path);
    case 'UP006': // list[int] in annotations evaluated at run time needs Python 3.10 for libraries such as Pydantic.
      return modern;
    case 'UP007':
    case 'UP045': // X | Y at run time needs Python 3.10.
      return modern && !removesComment();
    default:
      return false;
  }
}

function minorOf(target: string): number {
  const match = /^py3(\d+)$/.exec(target);
  return match ? Number(match[1]) : 0;
}

/** Whether the text an edit replaces holds a comment that its replacement does not. */
function deletesComment(text: string, index: readonly number[], edit: RuffEdit): boolean {
  const replaced = text.slice(offsetOf(index, text, edit.location), offsetOf(index, text, edit.end_location));
  return [...replaced.matchAll(/#[^\r\n]*/g)].some((comment) => !(edit.content ?? '').includes(comment[0].trim()));
}

export interface AppliedFixes {
  readonly text: string;
  /** Rule codes of the fixes applied, in order. */
  readonly applied: readonly string[];
}

/**
 * Applies the safe fixes among `diagnostics` (found on `text`) as Ruff's `apply_fixes` does: in order of
 * position (F811 first), skipping a fix that overlaps one already applied; the caller checks again and
 * repeats until nothing is left. `limit` applies only the first n, for when fixes that Ruff would keep
 * apart (its isolation groups are not exposed either) broke the code together.
 */
export function applySafeFixes(text: string, diagnostics: readonly RuffDiagnostic[], context: FixContext, limit = Infinity): AppliedFixes {
  const index = lineIndex(text);
  const fixes = diagnostics
    .filter((d) => isSafeFix(d, text, context, index))
    .map((d) => ({
      code: d.code ?? '',
      edits: (d.fix?.edits ?? [])
        .map((e) => ({ start: offsetOf(index, text, e.location), end: offsetOf(index, text, e.end_location), content: e.content ?? '' }))
        .sort((a, b) => a.start - b.start || a.end - b.end),
    }))
    .sort((a, b) => Number(b.code === 'F811') - Number(a.code === 'F811') || (a.edits[0]?.start ?? 0) - (b.edits[0]?.start ?? 0));
  let out = '';
  let last: number | null = null;
  const applied: string[] = [];
  const seen = new Set<string>();
  for (const fix of fixes) {
    if (applied.length >= limit) break;
    const key = JSON.stringify(fix.edits);
    if (seen.has(key)) continue;
    const first = fix.edits[0];
    if (!first || (last !== null && last >= first.start)) continue;
    seen.add(key);
    for (const edit of fix.edits) {
      out += text.slice(last ?? 0, edit.start) + edit.content;
      last = edit.end;
    }
    applied.push(fix.code);
  }
  return { text: out + text.slice(last ?? 0), applied };
}

/** Where each line starts; Ruff counts \n, \r\n and \r as line ends. */
function lineIndex(text: string): number[] {
  const starts = [0];
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\n' || (c === '\r' && text[i + 1] !== '\n')) starts.push(i + 1);
  }
  return starts;
}

/** Ruff's 1-based row and UTF-16 column (PositionEncoding.Utf16, as JavaScript strings count) as an offset. */
function offsetOf(starts: readonly number[], text: string, location: { row: number; column: number }): number {
  const start = starts[location.row - 1];
  if (start === undefined) return text.length;
  return Math.min(text.length, start + location.column - 1);
}
