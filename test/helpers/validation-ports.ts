import { afterAll, beforeAll } from 'vitest';
import { getSandbox, type ReadySandbox } from '../../src/sandbox/select.js';
import type { RunRequest, RunResult } from '../../src/sandbox/types.js';
import { createRuffLinter, type RuffLinter } from '../../src/validate/ruff/ruff-linter.js';

/** The real sandbox and Ruff for a test file: opened once before its tests, closed after. */
export function useValidation(): { readonly sandbox: () => ReadySandbox; readonly linter: () => RuffLinter } {
  let ready: ReadySandbox | undefined;
  let linter: RuffLinter | undefined;
  beforeAll(async () => {
    ready = await getSandbox('bwrap');
    linter = createRuffLinter();
  });
  afterAll(() => linter?.close());
  return {
    sandbox: () => ready!,
    linter: () => linter!,
  };
}

/**
 * `ready` with every sandbox run handed to `wrap`, which runs it with `run` (for tests that record, watch or
 * hold runs). Every other part of the sandbox is the real one's.
 */
export function watchedSandbox(ready: ReadySandbox, wrap: (request: RunRequest, run: (request: RunRequest) => Promise<RunResult>) => Promise<RunResult>): ReadySandbox {
  const real = ready.sandbox;
  const run = (request: RunRequest): Promise<RunResult> => real.run(request);
  return { ...ready, sandbox: { backend: real.backend, python: real.python, limiter: real.limiter, ...(real.runAs ? { runAs: real.runAs } : {}), run: (request) => wrap(request, run) } };
}
