import { applyPatch, parsePatch, type StructuredPatch, type StructuredPatchHunk } from 'diff';

/** Context lines a hunk may miss and still apply; two absorbs a model misremembering a line or two. */
export const DEFAULT_FUZZ_FACTOR = 2;

export interface ApplyPatchSettings {
  readonly fuzzFactor?: number;
}

export type PatchOutcome = { readonly ok: true; readonly content: string } | { readonly ok: false; readonly reason: string };

/** The longest excerpt of a hunk quoted back in a reason; the model gets the whole file anyway. */
const MAX_QUOTED_LINES = 30;

/**
 * Applies the unified diff a model sent for `path` to `current`, the file on the branch
 * (`null` when it does not exist). Pure. All or nothing: when any hunk does not fit, the answer is a
 * reason naming the hunk and the lines it expected, never partly patched content. The reason is written
 * for the model's corrective round, which the caller follows with the file's current content.
 *
 * Tolerated because models produce them: `a/`/`b/` prefixes or no file headers, `diff --git` lines, a
 * fenced code block, CRLF, a missing final newline, and hunk headers whose line counts are wrong or
 * missing (they are recounted from the hunk body; the position is searched for anyway).
 */
export function applyModelPatch(path: string, current: string | null, patch: string, settings: ApplyPatchSettings = {}): PatchOutcome {
  const fuzzFactor = settings.fuzzFactor ?? DEFAULT_FUZZ_FACTOR;
  const retry = current === null ? `send the whole file as content instead` : `send a new patch against the current content of ${path}, which follows, or the whole file as content`;

  let parsed: StructuredPatch[];
  try {
    parsed = parsePatch(recountHunks(stripFence(patch.replace(/\r\n/g, '\n'))));
  } catch (error) {
    return refuse(`the patch for ${path} is not a readable unified diff (${(error as Error).message}); ${retry}`);
  }
  const withHunks = parsed.filter((p) => p.hunks.length > 0 || p.oldFileName !== undefined);
  if (withHunks.length > 1) return refuse(`the patch for ${path} changes ${withHunks.length} files; give each file its own entry with a patch for that file only`);
  const diff = withHunks[0];
  if (diff === undefined || diff.hunks.length === 0) return refuse(`the patch for ${path} has no hunks (lines starting with @@); ${retry}`);

  const wrongName = [diff.oldFileName, diff.newFileName].find((name) => name !== undefined && name !== DEV_NULL && !namesPath(name, path));
  if (wrongName !== undefined) return refuse(`the patch given for ${path} is for ${wrongName}; give each file its own entry with a patch for that file`);
  if (diff.newFileName === DEV_NULL || diff.isDelete === true) return refuse(`the patch deletes ${path}; Code4Py does not delete files, so leave it out`);

  const creates = diff.hunks.every((hunk) => hunk.oldLines === 0);
  if (current === null && !creates) return refuse(`${path} does not exist on the branch, so a patch with context or removed lines cannot apply; ${retry}`);
  if (current !== null && current !== '' && (diff.oldFileName === DEV_NULL || diff.isCreate === true)) {
    return refuse(`the patch creates ${path}, but it already exists on the branch; ${retry}`);
  }

  const original = current ?? '';
  // A file that uses CRLF throughout is patched as LF and converted back, so a patch written either way fits.
  const crlf = original.includes('\r\n') && !/(^|[^\r])\n/.test(original);
  const source = crlf ? original.replace(/\r\n/g, '\n') : original;

  const patched = applyPatch(source, diff, { fuzzFactor });
  if (patched === false) return refuse(explainFailure(path, source, diff, fuzzFactor, retry));

  let content = keepFinalNewline(source, patched);
  if (content === '' && source !== '' && !removesEveryLine(source, diff.hunks)) {
    return refuse(`the patch would leave ${path} empty without removing its lines explicitly; ${retry}`);
  }
  if (crlf) content = content.replace(/\n/g, '\r\n');
  return { ok: true, content };
}

const DEV_NULL = '/dev/null';

const refuse = (reason: string): PatchOutcome => ({ ok: false, reason });

function namesPath(name: string, path: string): boolean {
  const bare = (p: string) => p.replace(/^(\.\/)+/, '');
  const wanted = bare(path);
  // `a/x.py` is git's prefix for x.py, but could also be the real folder `a/`; either reading is accepted.
  return bare(name) === wanted || bare(name.replace(/^[ab]\//, '')) === wanted;
}

function stripFence(patch: string): string {
  const fenced = /^\s*```[\w-]*\n([\s\S]*?)\n```\s*$/.exec(patch);
  return fenced?.[1] ?? patch;
}

const HUNK_HEADER = /^@@ -(\d+)(?:,\d+)? \+(\d+)(?:,\d+)? @@(.*)$/;

/**
 * `diff` refuses a hunk whose header counts disagree with its body, the commonest mistake in a model's
 * patch; the body is what the model meant, so the counts are rewritten from it.
 */
function recountHunks(patch: string): string {
  const lines = patch.split('\n');
  const out: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i]!;
    if (!line.startsWith('@@')) {
      out.push(line);
      i += 1;
      continue;
    }
    const header = HUNK_HEADER.exec(line);
    i += 1;
    const body: string[] = [];
    while (i < lines.length && isBodyLine(lines, i)) body.push(lines[i++]!);
    // A blank line after a hunk is usually spacing the model added, not an empty context line.
    while (body.length > 0 && body[body.length - 1] === '') body.pop();
    const normalised = body.map((l) => (l === '' ? ' ' : l));
    const oldCount = normalised.filter((l) => l.startsWith(' ') || l.startsWith('-')).length;
    const newCount = normalised.filter((l) => l.startsWith(' ') || l.startsWith('+')).length;
    // Without numbers (`@@ @@`) the hunk is searched for from the top; a count of 0 means "after line n".
    const start = (given: string | undefined, count: number) => (count > 0 ? Math.max(Number(given ?? 1), 1) : Number(given ?? 0));
    out.push(`@@ -${start(header?.[1], oldCount)},${oldCount} +${start(header?.[2], newCount)},${newCount} @@${header?.[3] ?? ''}`, ...normalised);
  }
  return out.join('\n');
}

function isBodyLine(lines: readonly string[], i: number): boolean {
  const line = lines[i]!;
  if (line.startsWith('@@') || line.startsWith('diff --git ') || line.startsWith('Index: ')) return false;
  if (line.startsWith('--- ') && lines[i + 1]?.startsWith('+++ ') === true) return false;
  return line === '' || /^[ +\-\\]/.test(line);
}

/** `applyPatch` only says "no"; applying growing prefixes of the hunks finds the first that does not fit. */
function explainFailure(path: string, source: string, diff: StructuredPatch, fuzzFactor: number, retry: string): string {
  const total = diff.hunks.length;
  let failing = total - 1;
  for (let n = 1; n < total; n += 1) {
    if (applyPatch(source, { ...diff, hunks: diff.hunks.slice(0, n) }, { fuzzFactor }) === false) {
      failing = n - 1;
      break;
    }
  }
  const hunk = diff.hunks[failing]!;
  const expected = hunk.lines.filter((l) => l.startsWith(' ') || l.startsWith('-')).map((l) => l.slice(1));
  const quoted = expected.length > MAX_QUOTED_LINES ? [...expected.slice(0, MAX_QUOTED_LINES), `… (${expected.length - MAX_QUOTED_LINES} more lines)`] : expected;
  const where = `hunk ${failing + 1} of ${total} (@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@)`;
  return [`${where} does not apply to ${path}: these lines were not found in the file:`, ...quoted.map((l) => `    ${l}`), `Nothing was changed; ${retry}.`].join('\n');
}

/** The file's convention wins over a model that drops or adds the final newline by accident. */
function keepFinalNewline(source: string, patched: string): string {
  if (source === '' || patched === '') return patched;
  const wanted = source.endsWith('\n');
  if (wanted && !patched.endsWith('\n')) return `${patched}\n`;
  if (!wanted && patched.endsWith('\n')) return patched.slice(0, -1);
  return patched;
}

function removesEveryLine(source: string, hunks: readonly StructuredPatchHunk[]): boolean {
  const lineCount = source.replace(/\n$/, '').split('\n').length;
  const all = hunks.flatMap((hunk) => hunk.lines);
  return all.filter((l) => l.startsWith('-')).length === lineCount && !all.some((l) => l.startsWith('+'));
}
