import { describe, expect, it } from 'vitest';
import { retryDelayMs } from '../../src/queue/backoff.js';

const policy = { maxAttempts: 5, baseDelayMs: 1_000, maxDelayMs: 8_000 };

describe('the delay before a retryable failure runs again', () => {
  it('doubles with each failure, up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((failures) => retryDelayMs(policy, failures, () => 1))).toEqual([1_000, 2_000, 4_000, 8_000, 8_000]);
  });

  it('is spread over the upper half of that, so tasks that failed together do not return together', () => {
    expect([0, 0.5, 1].map((r) => retryDelayMs(policy, 3, () => r))).toEqual([2_000, 3_000, 4_000]);
  });
});
