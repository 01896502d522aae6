import { describe, expect, it } from 'vitest';
import { TokenLedger } from '../../src/llm/budget.js';
import { TokenBudgetExceededError } from '../../src/llm/errors.js';
import { ANALYSIS, analysisInput, completion, modelEndpoint, SOLUTION, solutionInput, testClient, useStrictNock } from './helpers.js';

useStrictNock();

describe('token ledger', () => {
  it('sums the usage of every call of a task', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(ANALYSIS), { usage: { prompt_tokens: 1_000, completion_tokens: 200, total_tokens: 1_200 } }))
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(SOLUTION), { usage: { prompt_tokens: 3_000, completion_tokens: 900, total_tokens: 3_900 } }));
    const { client } = testClient();
    const ledger = new TokenLedger(100_000);

    await client.analyse(analysisInput(), ledger);
    await client.solve(solutionInput(), ledger);

    expect(ledger.snapshot).toEqual({ prompt: 4_000, completion: 1_100, total: 5_100, calls: 2, estimated: 0 });
    expect(ledger.remaining).toBe(94_900);
    expect(raw).toHaveLength(2);
    scope.done();
  });

  it('estimates from the text when the server reports no usage, so the budget still holds', async () => {
    const { scope } = modelEndpoint();
    scope.post('/chat/completions').reply(200, completion(JSON.stringify(ANALYSIS), { usage: null }));
    const { client } = testClient();
    const ledger = new TokenLedger();

    await client.analyse(analysisInput(), ledger);

    const usage = ledger.snapshot;
    expect(usage.estimated).toBe(1);
    expect(usage.completion).toBe(Math.ceil(JSON.stringify(ANALYSIS).length / 3));
    expect(usage.prompt).toBeGreaterThan(500);
    expect(usage.total).toBe(usage.prompt + usage.completion);
    scope.done();
  });

  it('stops the next call without sending anything once the budget is reached', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(200, completion(JSON.stringify(ANALYSIS), { usage: { prompt_tokens: 900, completion_tokens: 150, total_tokens: 1_050 } }));
    const { client } = testClient();
    const ledger = new TokenLedger(1_000);
    await client.analyse(analysisInput(), ledger);
    expect(raw).toHaveLength(1);
    scope.done();
    const unused = modelEndpoint();
    unused.scope.post('/chat/completions').reply(200, completion(JSON.stringify(SOLUTION)));

    const error = await client.solve(solutionInput(), ledger).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(TokenBudgetExceededError);
    expect((error as Error).message).toBe(
      'This task used 1,050 tokens of its budget of 1,000, so Code4Py stopped before asking the model again. ' +
        'Raise `max_tokens_per_task` in .github/code4py.yml, or narrow the issue.',
    );
    expect(unused.raw).toEqual([]);
    expect(unused.scope.isDone()).toBe(false);
  });

  it('does not send the corrective retry when the unusable answer used up the budget', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(200, completion('not json', { usage: { prompt_tokens: 400, completion_tokens: 100, total_tokens: 500 } }));
    const { client } = testClient();

    await expect(client.analyse(analysisInput(), new TokenLedger(500))).rejects.toBeInstanceOf(TokenBudgetExceededError);
    expect(raw).toHaveLength(1);
    scope.done();
  });

  it('carries what a task spent before a restart', () => {
    const ledger = new TokenLedger(10_000, { prompt: 6_000, completion: 1_000, total: 7_000, calls: 2 });
    expect(ledger.remaining).toBe(3_000);
    ledger.record({ prompt_tokens: 2_500, completion_tokens: 600, total_tokens: 3_100 }, { prompt: '', completion: '' });
    expect(ledger.snapshot).toEqual({ prompt: 8_500, completion: 1_600, total: 10_100, calls: 3, estimated: 0 });
    expect(() => ledger.assertCanSpend()).toThrow(TokenBudgetExceededError);
    expect(() => new TokenLedger(0)).toThrow(RangeError);
  });
});
