import type { TokenLedger } from './budget.js';
import type { ModelClient } from './types.js';

/** The kinds of call a ModelClient makes. */
export type ModelCall = 'analysis' | 'solution' | 'embeddings';

/**
 * A decorator's view of one model call: which it is, the task's ledger it spends from, and the call itself.
 * Returns the call's answer (or throws), having done what it does around it.
 */
export type AroundCall = <T>(call: ModelCall, usage: TokenLedger, run: () => Promise<T>) => Promise<T>;

/**
 * The model client with `around` put around every call (analyse, solve and, where the client embeds,
 * embed). Everything else of the client (secret registration) reaches the original through the prototype.
 */
export function wrapModelCalls<M extends ModelClient>(model: M, around: AroundCall): M {
  const wrapped: ModelClient = {
    analyse: (input, usage, options) => around('analysis', usage, () => model.analyse(input, usage, options)),
    solve: (input, usage, options) => around('solution', usage, () => model.solve(input, usage, options)),
    ...(model.embed ? { embed: (texts, options) => around('embeddings', options.usage, () => model.embed!(texts, options)) } : {}),
  };
  return Object.assign(Object.create(model) as M, wrapped);
}
