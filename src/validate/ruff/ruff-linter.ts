import type { ValidationConfig } from '../../config/schema.js';
import type { Linter } from '../pipeline.js';
import type { SourceFile } from '../source.js';
import { runRuffStages, type RuffStages } from '../stages/lint.js';
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
  return {
    mode: host.mode,
    check: (files: readonly SourceFile[], config: ValidationConfig): Promise<RuffStages> => runRuffStages(files, host, config),
    lint: (request) => host.lint(request),
    close: () => host.close(),
  };
}
