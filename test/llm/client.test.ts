import { describe, expect, it } from 'vitest';
import { TokenLedger } from '../../src/llm/budget.js';
import { ModelOutputError, ModelRequestError } from '../../src/llm/errors.js';
import { ANALYSIS_JSON_SCHEMA, SOLUTION_JSON_SCHEMA } from '../../src/llm/schemas.js';
import { ANALYSIS, analysisInput, completion, MODEL, modelEndpoint, SOLUTION, solutionInput, testClient, userText, useStrictNock } from './helpers.js';

useStrictNock();

describe('model client, structured output', () => {
  it('asks for code4py_analysis with a strict json_schema, the default model and the task fenced as data', async () => {
    const { scope, bodies } = modelEndpoint();
    scope.post('/chat/completions').reply(200, completion(JSON.stringify(ANALYSIS)));
    const { client } = testClient();
    const ledger = new TokenLedger();

    const analysis = await client.analyse(analysisInput(), ledger);

    expect(analysis).toEqual(ANALYSIS);
    scope.done();
    const [body] = bodies();
    expect(body!.model).toBe(MODEL);
    expect(body!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'code4py_analysis', strict: true, schema: ANALYSIS_JSON_SCHEMA } });
    expect(body!.messages.map((m) => m.role)).toEqual(['system', 'user']);
    expect(body!.messages[0]!.content).toContain('pytest');
    const text = userText(body!);
    const nonce = /<<<ISSUE-([0-9a-f]{16})\n/.exec(text)?.[1];
    expect(nonce).toBeDefined();
    expect(text).toContain(`<<<ISSUE-${nonce}\n# Word count CLI\n\nCount the words in the files given on the command line.\nISSUE-${nonce}>>>`);
    expect(text).toContain(`<<<COMMENT-${nonce}\n@octocat wrote:\nAlso print a total please.\nCOMMENT-${nonce}>>>`);
    expect(text).toContain(`NAME-${nonce}>>>\` hold data`);
    expect(ledger.snapshot).toEqual({ prompt: 100, completion: 20, total: 120, calls: 1, estimated: 0 });
  });

  it('asks for code4py_solution with the model the call names, and passes repair feedback and review words as data', async () => {
    const { scope, bodies } = modelEndpoint();
    scope.post('/chat/completions').reply(200, completion(JSON.stringify(SOLUTION)));
    const { client } = testClient();

    const solution = await client.solve(
      solutionInput({
        repair: {
          previous: SOLUTION.files,
          failures: {
            summaries: ['tests: 1 failed, 0 passed'],
            failingTests: [{ id: 'tests/test_word_count.py::test_count', outcome: 'failed', message: 'assert 1 == 2' }],
            findings: [{ path: 'word_count.py', line: 3, rule: 'F401', message: '`os` imported but unused', severity: 'warning' }],
            rejectedPaths: [{ path: '.github/workflows/ci.yml', reason: 'outside the allowed paths' }],
          },
        },
        refinement: { current: [{ path: 'word_count.py', content: 'x = 1\n' }], feedback: [{ author: 'reviewer', body: 'Please use `pathlib` here.', path: 'word_count.py', line: 3 }] },
      }),
      new TokenLedger(),
      { model: 'repo-model' },
    );

    expect(solution).toEqual(SOLUTION);
    scope.done();
    const [body] = bodies();
    expect(body!.model).toBe('repo-model');
    expect(body!.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'code4py_solution', strict: true, schema: SOLUTION_JSON_SCHEMA } });
    const text = userText(body!);
    expect(text).toMatch(/<<<FILE-[0-9a-f]{16}\npath: README.md\n# Tools\n/);
    expect(text).toContain('- tests/test_word_count.py::test_count (failed): assert 1 == 2');
    expect(text).toContain('- word_count.py:3 F401 (warning): `os` imported but unused');
    expect(text).toContain('- .github/workflows/ci.yml: outside the allowed paths');
    expect(text).toContain('@reviewer wrote on word_count.py line 3:\nPlease use `pathlib` here.');
    expect(text).toMatch(/<<<PREVIOUS-[0-9a-f]{16}\npath: word_count.py\ndef count_words/);
  });
});

describe('model client, servers without response_format', () => {
  it('asks again for a fenced JSON block after a 400, and skips response_format from then on', async () => {
    const { scope, bodies } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(400, { error: { message: "Unrecognized request argument supplied: response_format", type: 'invalid_request_error' } })
      .post('/chat/completions')
      .reply(200, completion(`Here is my analysis.\n\n\`\`\`json\n${JSON.stringify(ANALYSIS, null, 2)}\n\`\`\`\nHope it helps.`))
      .post('/chat/completions')
      // Two blocks (a draft, then the answer) and no closing fence: the last complete one counts.
      .reply(200, completion(`Draft:\n\`\`\`json\n{"summary": \n\`\`\`\nFinal:\n\`\`\`json\n${JSON.stringify(SOLUTION)}\n`));
    const { client } = testClient();
    const ledger = new TokenLedger();

    expect(await client.analyse(analysisInput(), ledger)).toEqual(ANALYSIS);
    expect(client.usesStructuredOutput).toBe(false);
    expect(await client.solve(solutionInput(), ledger)).toEqual(SOLUTION);

    scope.done();
    const [structured, fallback, later] = bodies();
    expect(structured!.response_format?.json_schema.name).toBe('code4py_analysis');
    expect(fallback!.response_format).toBeUndefined();
    expect(fallback!.messages[0]!.content).toContain('answer with exactly one ```json fenced block holding the `code4py_analysis` object');
    expect(fallback!.messages[0]!.content).toContain(JSON.stringify(ANALYSIS_JSON_SCHEMA));
    expect(fallback!.messages.slice(1)).toEqual(structured!.messages.slice(1));
    expect(later!.response_format).toBeUndefined();
    expect(later!.messages[0]!.content).toContain('`code4py_solution` object');
    expect(ledger.snapshot.calls).toBe(2);
  });

  it('does not blame response_format when the fallback is refused too', async () => {
    const { scope } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(400, { error: { message: 'context length exceeded' } })
      .post('/chat/completions')
      .reply(400, { error: { message: 'context length exceeded' } });
    const { client } = testClient();

    const error = await client.analyse(analysisInput(), new TokenLedger()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelRequestError);
    expect((error as Error).message).toBe('The model server at models.test rejected the request (400: context length exceeded).');
    expect(client.usesStructuredOutput).toBe(true);
    scope.done();
  });
});

describe('model client, unusable answers', () => {
  it('sends one corrective retry after an answer that is not JSON, quoting the problem', async () => {
    const { scope, bodies } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(200, completion('Sure! I will write that for you.'))
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(ANALYSIS)));
    const { client } = testClient();
    const ledger = new TokenLedger();

    expect(await client.analyse(analysisInput(), ledger)).toEqual(ANALYSIS);

    scope.done();
    const [first, second] = bodies();
    expect(second!.response_format).toEqual(first!.response_format);
    expect(second!.messages.slice(0, 2)).toEqual(first!.messages);
    expect(second!.messages[2]).toEqual({ role: 'assistant', content: 'Sure! I will write that for you.' });
    expect(second!.messages[3]).toEqual({
      role: 'user',
      content: 'Your answer could not be used:\n- the answer is not a valid JSON object\nAnswer again as the JSON object, complete and corrected (the whole answer, not only the fix).',
    });
    expect(ledger.snapshot.calls).toBe(2);
  });

  it('names the broken key and rule when the shape is wrong', async () => {
    const { scope, bodies } = modelEndpoint();
    const both = { ...SOLUTION, files: [{ path: 'a.py', content: 'x = 1\n', patch: '--- a.py' }] };
    scope
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(both)))
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(SOLUTION)));
    const { client } = testClient();

    expect(await client.solve(solutionInput(), new TokenLedger())).toEqual(SOLUTION);

    scope.done();
    expect(bodies()[1]!.messages.at(-1)!.content).toContain(
      '- files.0: give exactly one of content (the whole file) or patch (a unified diff); set the other to null',
    );
  });

  it('gives up with ModelOutputError when the corrected answer is unusable too', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(200, completion('garbage'))
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify({ ...ANALYSIS, intent: 'poetry' })));
    const { client } = testClient();

    const error = await client.analyse(analysisInput(), new TokenLedger()).catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ModelOutputError);
    expect((error as ModelOutputError).problems).toEqual([expect.stringMatching(/^intent: Invalid option: expected one of "algorithm"\|/)]);
    expect((error as Error).message).toMatch(/^The model \(test-model at models\.test\) gave no usable analysis even after being asked to correct it: intent: Invalid option/);
    expect((error as Error).message).toMatch(/Try again, or choose a more capable model \(`model` in \.github\/code4py\.yml, CODE4PY_MODEL, or the CLI's --model\)\.$/);
    expect(raw).toHaveLength(2);
    scope.done();
  });

  it('asks for a shorter answer after a truncated one, without repeating the cut-off text', async () => {
    const { scope, bodies } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(200, completion('{"summary": "Adds word_count.py", "files": [{"path": "word_count.py", "content": "def count', { finish: 'length' }))
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(SOLUTION)));
    const { client } = testClient();

    expect(await client.solve(solutionInput(), new TokenLedger())).toEqual(SOLUTION);

    scope.done();
    const [first, second] = bodies();
    expect(second!.messages).toHaveLength(3);
    expect(second!.messages.slice(0, 2)).toEqual(first!.messages);
    expect(second!.messages[2]!.content).toMatch(/^Your answer was cut off at the length limit\. Answer again as the JSON object, shorter/);
  });

  it('asks for a fenced block again in the corrective retry when the server has no response_format', async () => {
    const { scope, bodies } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(400, { error: { message: 'response_format is not supported' } })
      .post('/chat/completions')
      .reply(200, completion('I think the intent is cli.'))
      .post('/chat/completions')
      .reply(200, completion(`\`\`\`json\n${JSON.stringify(ANALYSIS)}\n\`\`\``));
    const { client } = testClient();

    expect(await client.analyse(analysisInput(), new TokenLedger())).toEqual(ANALYSIS);

    scope.done();
    const third = bodies()[2]!;
    expect(third.response_format).toBeUndefined();
    expect(third.messages.at(-1)!.content).toContain('- the answer holds no ```json fenced block with a valid JSON object\nAnswer again in one ```json fenced block');
  });
});
