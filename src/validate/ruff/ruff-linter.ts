import type { ValidationConfig } from '../../config/schema.js';
import type { Linter } from '../pipeline.js';
import type { SourceFile } from '../source.js';
import type { RuffStages } from '../stages/lint.js';
import { RuffHost, type RuffHostOptions } from './ruff-host.js';

export interface RuffLinter extends Linter {
  readonly mode: RuffHost['mode'];
  close(): Promise<void>;
}

/**
 * The pipeline's Linter, backed by Ruff in a worker thread that starts loading now: create it before
 * the sandbox so the two start-ups overlap. Close it when done.
 */
export function createRuffLinter(options: RuffHostOptions = {}): RuffLinter {
  const host = RuffHost.start(options);
  // The lint and security stages (settings discovery, globs, diffs) load while the caller waits for the
  // sandbox, not before it: `code4py validate` starts no sooner than its static imports allow.
  const stages = import('../stages/lint.js');
  stages.catch(() => undefined);
  return {
    mode: host.mode,
    check: async (files: readonly SourceFile[], config: ValidationConfig): Promise<RuffStages> => (await stages).runRuffStages(files, host, config),
    lint: (request) => host.lint(request),
    close: () => host.close(),
  };
}
