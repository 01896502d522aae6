/**
 * The one retry policy for model calls (the SDK's own retries are switched off): exponential backoff
 * with jitter on 408, 409, 429, 5xx, connection errors and timeouts; a server's `retry-after-ms` or
 * `retry-after` wins over the backoff, unless it asks for more than `maxRetryAfterMs`, in which case
 * waiting is pointless for a task and the call fails at once.
 */
export interface RetryPolicy {
  /** Requests per call, the first one included. */
  maxAttempts: number;
  /** The first backoff; each later one doubles, jittered between half and all of it. */
  baseDelayMs: number;
  /** The longest backoff between two attempts when the server does not say how long to wait. */
  maxDelayMs: number;
  /** The longest wait a `retry-after` header may ask for before the call gives up instead. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: Readonly<RetryPolicy> = Object.freeze({
  maxAttempts: 4,
  baseDelayMs: 1_000,
  maxDelayMs: 20_000,
  maxRetryAfterMs: 60_000,
});

/** Status codes worth another attempt: timeouts, conflicts, rate limits and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** The wait a response asks for, in milliseconds; undefined when it names none (or nonsense). */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  const ms = headers?.get('retry-after-ms');
  if (ms && /^\s*\d+(\.\d+)?\s*$/.test(ms)) return Math.ceil(Number(ms));
  const value = headers?.get('retry-after')?.trim();
  if (!value) return undefined;
  if (/^\d+(\.\d+)?$/.test(value)) return Math.ceil(Number(value) * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** The backoff after the `failures`-th failed attempt (1 for the first). */
export function backoffMs(policy: RetryPolicy, failures: number, random: () => number = Math.random): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (failures - 1));
  // "Equal jitter": never less than half the ceiling, so a burst of tasks spreads out but still waits.
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}
