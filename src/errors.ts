/**
 * Errors a user can act on. `message` says what was wrong and what to do; the CLI prints it and
 * exits 2, the bot puts it in the status comment.
 */
export class Code4PyError extends Error {
  override readonly name: string = 'Code4PyError';
}

/** Bad input: arguments, a config file, a folder that cannot be validated. */
export class UsageError extends Code4PyError {
  override readonly name = 'UsageError';
}

/** No sandbox backend works on this host: code is never run unsandboxed. */
export class SandboxUnavailableError extends Code4PyError {
  override readonly name = 'SandboxUnavailableError';
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
