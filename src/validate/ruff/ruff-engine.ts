import { createRequire } from 'node:module';
import type * as RuffWasm from '@astral-sh/ruff-wasm-nodejs';
import type { RuffDiagnostic, RuffFileResult, RuffOptions, RuffPass, RuffPassResult, RuffRequest, RuffResponse } from './ruff-protocol.js';
import { isSyntaxDiagnostic } from './syntax-diagnostic.js';
import { setRuffWasmFlags } from './wasm-flags.js';

// How V8 compiles Ruff's WebAssembly is set first; the package compiles it as it loads.
setRuffWasmFlags();
const { PositionEncoding, Workspace } = createRequire(import.meta.url)('@astral-sh/ruff-wasm-nodejs') as typeof RuffWasm;
type Workspace = RuffWasm.Workspace;

// Runs Ruff's WebAssembly build in the current thread: the worker's body, and the fallback when no
// compiled worker script exists (running from TypeScript sources). It imports no zod (~80 ms of the
// worker's start-up): RuffHost parses every response against RuffResponseSchema, in either mode.
// Nested configurations, per-file ignores and target versions make a few distinct option sets per repository.
const MAX_WORKSPACES = 32;

// A Workspace parses its options once; a worker sees the same few option sets again and again.
const workspaces = new Map<string, Workspace>();

function workspaceFor(options: RuffOptions): Workspace {
  const key = JSON.stringify(options);
  const cached = workspaces.get(key);
  if (cached) return cached;
  const workspace = new Workspace(options, PositionEncoding.Utf16);
  const oldest = workspaces.keys().next();
  if (workspaces.size >= MAX_WORKSPACES && !oldest.done) {
    workspaces.get(oldest.value)?.free();
    workspaces.delete(oldest.value);
  }
  workspaces.set(key, workspace);
  return workspace;
}

export function ruffVersion(): string {
  return Workspace.version();
}

export function runRuff(request: RuffRequest): RuffResponse {
  const texts = new Map(request.files.map((f) => [f.path, f.text]));
  return { version: ruffVersion(), passes: request.passes.map((pass) => runPass(pass, texts)) };
}

function runPass(pass: RuffPass, texts: ReadonlyMap<string, string>): RuffPassResult {
  let workspace: Workspace;
  try {
    workspace = workspaceFor(pass.options);
  } catch (error) {
    // Ruff words option errors for its command line ("… in `select` from the CLI"); here they come from a file.
    return { ok: false, error: messageOf(error).replace(/ from the CLI\b/, '') };
  }
  const files: RuffFileResult[] = [];
  for (const path of pass.paths) {
    const text = texts.get(path);
    if (text !== undefined) files.push(checkFile(workspace, path, pass.ignoreSuppressions ? blankSuppressions(text) : text, pass));
  }
  return { ok: true, files };
}

function checkFile(workspace: Workspace, path: string, text: string, pass: Pick<RuffPass, 'check' | 'format'>): RuffFileResult {
  try {
    const diagnostics: RuffDiagnostic[] = pass.check === false ? [] : (workspace.check(text) as RuffDiagnostic[]);
    // A text that does not parse is the syntax stage's finding; Ruff's formatter would refuse it.
    const formatted = pass.format && !diagnostics.some(isSyntaxDiagnostic) ? workspace.format(text) : text;
    return { path, diagnostics, formatted: formatted === text ? null : formatted, error: null };
  } catch (error) {
    return { path, diagnostics: [], formatted: null, error: messageOf(error) };
  }
}

const SUPPRESSION = /#[ \t]*(?:noqa\b|ruff[ \t]*:|flake8[ \t]*:[ \t]*noqa\b)[^\r\n]*/gi;

/** Replaces suppression comments with spaces of the same length, so every position Ruff reports stays true. */
export function blankSuppressions(text: string): string {
  return text.replace(SUPPRESSION, (comment) => ' '.repeat(comment.length));
}

export function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/** The first check compiles much of Ruff lazily: do it before any real work arrives. */
export function warmUp(): void {
  runRuff({ files: [{ path: 'warm_up.py', text: 'import os\n\nprint(os.sep)\n' }], passes: [{ options: { lint: { select: ['ALL'] } }, paths: ['warm_up.py'], format: true }] });
}
