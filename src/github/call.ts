import { setTimeout as sleep } from 'node:timers/promises';
import { GitHubApiError, secondaryRateLimitWaitMs } from './errors.js';

export interface CallOptions<M> {
  /** With it, a 404 answers this value instead of failing. */
  readonly ifMissing?: M;
  /** How many times a secondary rate limit is waited out before the call fails. */
  readonly secondaryRetries: number;
  /** The longest wait for one `retry-after`. */
  readonly maxWaitMs: number;
}

/**
 * Runs one GitHub request. Probot's throttling retries primary rate limits but only logs a secondary one (a
 * 403 or 429 with `retry-after`), which must be waited out and retried instead: that is done here, the one
 * place, up to `secondaryRetries` times. Every failure becomes a GitHubApiError that says what was being done.
 */
export async function callGitHub<T, M = never>(what: string, fn: () => Promise<T>, options: CallOptions<M>): Promise<T | M> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (options.ifMissing !== undefined && (error as { status?: number }).status === 404) return options.ifMissing;
      const wait = secondaryRateLimitWaitMs(error);
      if (wait === null || attempt >= options.secondaryRetries) throw GitHubApiError.from(what, error);
      await sleep(Math.min(wait, options.maxWaitMs));
    }
  }
}
