import { Code4PyError } from '../errors.js';
import type { ModelClient } from '../llm/types.js';
import { wrapModelCalls } from '../llm/wrap.js';

type MaybePromise<T> = T | Promise<T>;

/** Where the model tokens each installation spent per UTC day are counted (SQLite or Redis). */
export interface TokenBudgetStore {
  tokensSpentToday(installationId: number): MaybePromise<number>;
  addTokens(installationId: number, tokens: number): MaybePromise<void>;
}

/** The UTC day a moment falls on, `YYYY-MM-DD`: budgets reset at midnight UTC. */
export function utcDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** An installation has spent its daily token budget: the bot says so on the issue instead of calling the model. */
export class DailyBudgetExceededError extends Code4PyError {
  override readonly name = 'DailyBudgetExceededError';
  readonly retryable = false;
  constructor(
    readonly spent: number,
    readonly budget: number,
  ) {
    super(
      `this installation has used ${spent.toLocaleString('en-US')} model tokens today, its daily budget is ` +
        `${budget.toLocaleString('en-US')}, so Code4Py did not call the model. The budget resets at 00:00 UTC; ` +
        'the operator can raise it with CODE4PY_DAILY_TOKENS_PER_INSTALLATION.',
    );
  }
}

/**
 * The model client as one installation sees it: before every call the installation's tokens of the day
 * are checked against the daily budget (so one busy installation cannot use up the operator's account),
 * and after it what the call spent is added. Calls that fail spend what the ledger says they spent.
 */
export function withDailyBudget<M extends ModelClient>(model: M, store: TokenBudgetStore, installationId: number, budget: number | undefined): M {
  if (budget === undefined) return model;
  return wrapModelCalls(model, async (_call, usage, run) => {
    const spent = await store.tokensSpentToday(installationId);
    if (spent >= budget) throw new DailyBudgetExceededError(spent, budget);
    const before = usage.snapshot.total;
    try {
      return await run();
    } finally {
      const used = usage.snapshot.total - before;
      if (used > 0) await store.addTokens(installationId, used);
    }
  });
}
