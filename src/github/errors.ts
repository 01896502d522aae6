import { Code4PyError } from '../errors.js';

/** A GitHub request that failed after Probot's retries; keeps the status so callers can tell kinds apart. */
export class GitHubApiError extends Code4PyError {
  override readonly name = 'GitHubApiError';

  constructor(
    message: string,
    readonly status: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  static from(what: string, error: unknown): GitHubApiError {
    const status = (error as { status?: unknown }).status;
    const code = typeof status === 'number' ? status : 0;
    const said = (error as { response?: { data?: { message?: unknown } } }).response?.data?.message;
    const detail = typeof said === 'string' ? said : error instanceof Error ? error.message : String(error);
    const hint =
      code === 403 || code === 401
        ? ' Check that the app is installed on this repository with the permissions of app.yml (contents, pull requests, issues and checks: write).'
        : code === 422
          ? ' GitHub refused the request as it stands.'
          : '';
    return new GitHubApiError(`GitHub ${code ? `answered ${code}` : 'could not be reached'} while ${what}: ${detail}.${hint}`, code, { cause: error });
  }
}

/** How long GitHub asks us to wait, when `error` is a secondary rate limit; null for any other error. */
export function secondaryRateLimitWaitMs(error: unknown): number | null {
  const e = error as { status?: number; response?: { headers?: Record<string, string | undefined> } };
  if (e.status !== 403 && e.status !== 429) return null;
  const headers = e.response?.headers ?? {};
  const retryAfter = Number(headers['retry-after']);
  if (Number.isFinite(retryAfter) && retryAfter >= 0) return retryAfter * 1000;
  // Without retry-after, a secondary limit is told by its message; wait a minute as GitHub's docs advise.
  const message = error instanceof Error ? error.message : '';
  return /secondary rate limit/i.test(message) ? 60_000 : null;
}
