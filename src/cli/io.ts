/**
 * What the CLI's commands share: their standard streams and environment, the exit statuses, and Ctrl-C.
 * A module of its own so the commands and `main.ts` (which dispatches to them) do not import each other.
 */

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
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

/** Ctrl-C and SIGTERM, as a signal that aborts with an `interrupted` error, until `release()`. */
export function listenForInterrupt(): { readonly signal: AbortSignal; release(): void } {
  const abort = new AbortController();
  const onSignal = (): void => abort.abort(new Error('interrupted'));
  // From here the command listens itself; a second Ctrl-C, once its listener is spent, ends the process.
  releaseHold?.();
  if (interruptedEarly) onSignal();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
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
