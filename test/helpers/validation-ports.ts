import { afterAll, beforeAll } from 'vitest';
import { getSandbox, type ReadySandbox } from '../../src/sandbox/select.js';
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
