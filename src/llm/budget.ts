import { TokenBudgetExceededError } from './errors.js';

/** Tokens one task spent, as the pull request body and the store show them. */
export interface TokenUsage {
  prompt: number;
  completion: number;
  total: number;
  /** Answers received (failed requests cost nothing and are not counted). */
  calls: number;
  /** Answers whose server reported no usage, so their tokens were estimated from the text's length. */
  estimated: number;
}

/** The `usage` block of a Chat Completions answer; compatible servers sometimes leave it out. */
export interface ReportedUsage {
  prompt_tokens?: number | null;
  completion_tokens?: number | null;
  total_tokens?: number | null;
}

/** Rough, deliberately high: about three characters per token for code and English alike. */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 3);
}

/**
 * The token account of one task, across every model call it makes (analysis, solution, repairs,
 * refinements). With a budget, `assertCanSpend` stops the next call once the budget is reached; the
 * call that crosses it still completes, because its tokens are spent when the answer arrives.
 */
export class TokenLedger {
  private usage: TokenUsage;

  constructor(
    /** The most tokens the task may use; undefined for no limit. */
    readonly budget?: number,
    /** What the task had already spent, e.g. before the process restarted. */
    spent: Partial<TokenUsage> = {},
  ) {
    if (budget !== undefined && !(budget > 0)) throw new RangeError(`a token budget must be positive, not ${budget}`);
    this.usage = { prompt: 0, completion: 0, total: 0, calls: 0, estimated: 0, ...spent };
  }

  get snapshot(): Readonly<TokenUsage> {
    return { ...this.usage };
  }

  get remaining(): number {
    return this.budget === undefined ? Infinity : Math.max(0, this.budget - this.usage.total);
  }

  /** Throws TokenBudgetExceededError when the budget is already used up, so no request is sent. */
  assertCanSpend(): void {
    if (this.budget !== undefined && this.usage.total >= this.budget) {
      throw new TokenBudgetExceededError(this.usage.total, this.budget);
    }
  }

  /** Records one answer; `fallback` supplies the text to estimate from when the server reports no usage. */
  record(reported: ReportedUsage | null | undefined, fallback: { prompt: string; completion: string }): void {
    const prompt = reported?.prompt_tokens;
    const completion = reported?.completion_tokens;
    if (typeof prompt === 'number' && typeof completion === 'number') {
      this.add(prompt, completion, reported?.total_tokens ?? prompt + completion, false);
    } else {
      const p = estimateTokens(fallback.prompt);
      const c = estimateTokens(fallback.completion);
      this.add(p, c, p + c, true);
    }
  }

  private add(prompt: number, completion: number, total: number, estimated: boolean): void {
    const u = this.usage;
    this.usage = {
      prompt: u.prompt + prompt,
      completion: u.completion + completion,
      total: u.total + total,
      calls: u.calls + 1,
      estimated: u.estimated + (estimated ? 1 : 0),
    };
  }
}
