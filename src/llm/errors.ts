import { Code4PyError } from '../errors.js';

/**
 * The model server could not be reached or kept failing (connection errors, timeouts, 429 and 5xx)
 * after every retry. Worth retrying the task later; names the host, never the key. The messages of these
 * errors say what is wrong and what to change, never which command retries: the bot adds that, in the
 * repository's own command word, and the CLI is simply run again.
 */
export class ModelUnavailableError extends Code4PyError {
  override readonly name = 'ModelUnavailableError';
  readonly retryable = true;
  constructor(
    message: string,
    /** The HTTP status of the last answer, when there was one. */
    readonly status?: number,
  ) {
    super(message);
  }
}

/**
 * The server refused the request in a way a retry cannot fix (bad key, unknown model, exhausted quota,
 * a request it calls invalid): someone has to change the configuration first.
 */
export class ModelRequestError extends Code4PyError {
  override readonly name = 'ModelRequestError';
  readonly retryable = false;
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** The model answered, but even after the corrective retry the answer is not the protocol's JSON. */
export class ModelOutputError extends Code4PyError {
  override readonly name = 'ModelOutputError';
  readonly retryable = true;
  constructor(
    message: string,
    /** One line per problem found in the last answer (no answer text, so no secret can leak through it). */
    readonly problems: readonly string[],
  ) {
    super(message);
  }
}

/** The task spent its token budget; no further call is made. */
export class TokenBudgetExceededError extends Code4PyError {
  override readonly name = 'TokenBudgetExceededError';
  readonly retryable = false;
  constructor(
    readonly used: number,
    readonly budget: number,
  ) {
    super(
      `This task used ${used.toLocaleString('en-US')} tokens of its budget of ${budget.toLocaleString('en-US')}, ` +
        'so Code4Py stopped before asking the model again. Raise `max_tokens_per_task` in ' +
        '.github/code4py.yml, or narrow the issue.',
    );
  }
}
