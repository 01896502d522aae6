/**
 * What the CLI's commands share: their standard streams and environment, the exit statuses, and Ctrl-C.
 * A module of its own so the commands and `main.ts` (which dispatches to them) do not import each other.
 */
import type { RuffLinter } from '../validate/ruff/ruff-linter.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
  /** The folder relative paths are resolved from: by default this process's; the client's under `code4py server`. */
  readonly cwd?: string;
  /** Aborts the command instead of this process's Ctrl-C and SIGTERM: `code4py server` passes on a client's. */
  readonly interrupt?: AbortSignal;
  /** Kept warm across commands by `code4py server`: used instead of starting and closing one's own. */
  readonly shared?: { readonly linter: RuffLinter };
}

/** Exit statuses: 0 passed, 1 failed validation, 2 usage or internal error. */
export const EXIT = { passed: 0, failed: 1, error: 2 } as const;

let interruptedEarly = false;
let releaseHold: (() => void) | null = null;

/**
 * Holds Ctrl-C and SIGTERM from the moment the CLI starts until a command listens for them (its modules
 * take a moment to load): an interrupt in between is kept, not left to kill the process half-way.
 */
export function holdInterrupts(): () => void {
  interruptedEarly = false;
  const onSignal = (): void => void (interruptedEarly = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const release = (): void => {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    if (releaseHold === release) releaseHold = null;
  };
  releaseHold = release;
  return release;
}

/**
 * Ctrl-C and SIGTERM, as a signal that aborts with an `interrupted` error, until `release()`; a second one
 * ends the process at once (status 130, or 143 for SIGTERM). The listener stays for the whole command:
 * libraries that re-raise a signal when they are its only listener (signal-exit) must never see it alone.
 * Under `code4py server`, the command's `io.interrupt` instead: the server's own signals are its own.
 */
export function listenForInterrupt(io?: CliIo): { readonly signal: AbortSignal; release(): void } {
  if (io?.interrupt) return { signal: io.interrupt, release: () => undefined };
  const abort = new AbortController();
  const onSignal = (name?: NodeJS.Signals): void => {
    if (!abort.signal.aborted) return abort.abort(new Error('interrupted'));
    process.exit(name === 'SIGTERM' ? 143 : 130);
  };
  // From here the command listens itself: the early hold is no longer needed.
  releaseHold?.();
  if (interruptedEarly) onSignal();
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: abort.signal,
    release: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    },
  };
}

/** ANSI colours when the stream is a terminal and NO_COLOR is not set (https://no-color.org). */
export function wantsColor(io: CliIo): boolean {
  return Boolean(io.stdout.isTTY) && !io.env.NO_COLOR;
}
