import { describe, expect, it } from 'vitest';
import { TokenLedger } from '../../src/llm/budget.js';
import { REDACTED, SecretRedactor } from '../../src/llm/secrets.js';
import { ANALYSIS, API_KEY, completion, modelEndpoint, SOLUTION, solutionInput, testClient, useStrictNock } from './helpers.js';

useStrictNock();

const WEBHOOK_SECRET = 'whsec-correct-horse-battery-staple';
const PRIVATE_KEY = '-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEAx4Xk0p3Zexample0000000000000000000000\nQ29kZTRQeSB0ZXN0IGtleSBsaW5lIHR3bw==\n-----END RSA PRIVATE KEY-----';
const INSTALLATION_TOKEN = 'ghs_16C7e42F292c6912E7710c838347Ae178B4a';
const STRANGER_PAT = 'ghp_ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789ab';
const FINE_GRAINED = 'github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyzABCDEF';
const OTHER_OPENAI_KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz012345';

describe('SecretRedactor', () => {
  it('replaces registered secrets and anything that looks like a credential', () => {
    const redactor = new SecretRedactor([WEBHOOK_SECRET, PRIVATE_KEY, undefined, 'abc']);
    const text = `a ${WEBHOOK_SECRET} b ${STRANGER_PAT} c ${FINE_GRAINED} d ${OTHER_OPENAI_KEY} e AKIAABCDEFGHIJKLMNOP abc`;
    expect(redactor.redact(text)).toBe(`a ${REDACTED} b ${REDACTED} c ${REDACTED} d ${REDACTED} e ${REDACTED} abc`);
  });

  it('catches a private key with other line endings, one of its lines, or a cut-off block', () => {
    const redactor = new SecretRedactor([PRIVATE_KEY]);
    expect(redactor.redact(`x ${PRIVATE_KEY.replace(/\n/g, '\r\n')} y`)).toBe(`x ${REDACTED} y`);
    expect(redactor.redact('key line: Q29kZTRQeSB0ZXN0IGtleSBsaW5lIHR3bw==')).toBe(`key line: ${REDACTED}`);
    expect(new SecretRedactor().redact('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk')).toBe(REDACTED);
  });
});

describe('secrets in requests', () => {
  it('never sends the API key or a registered secret, wherever the task quotes them', async () => {
    const { scope, raw } = modelEndpoint();
    scope
      .post('/chat/completions')
      .reply(200, completion(`${JSON.stringify({ ...SOLUTION, files: [] })}`))
      .post('/chat/completions')
      .reply(200, completion(JSON.stringify(SOLUTION)));
    const { client } = testClient({ secrets: [WEBHOOK_SECRET, PRIVATE_KEY] });
    client.registerSecret(INSTALLATION_TOKEN);
    const input = solutionInput({
      context: [{ path: 'config.py', content: `API_KEY = "${API_KEY}"\nHOOK = "${WEBHOOK_SECRET}"\n` }],
      repair: {
        previous: SOLUTION.files,
        failures: {
          summaries: [`tests: failed with token ${INSTALLATION_TOKEN}`],
          failingTests: [{ id: 'tests/test_x.py::test_env', outcome: 'failed', message: `assert '${STRANGER_PAT}' == ''` }],
          findings: [],
        },
      },
    });
    input.task.title = `Leak ${API_KEY}`;
    input.task.body = `Here is the key:\n${PRIVATE_KEY}\nand the secret ${WEBHOOK_SECRET}`;
    input.task.comments = [{ author: 'eve', body: `token ${INSTALLATION_TOKEN} ${FINE_GRAINED}` }];

    // The first answer is unusable, so the corrective retry is checked too.
    await client.solve(input, new TokenLedger());

    scope.done();
    expect(raw).toHaveLength(2);
    for (const body of raw) {
      for (const secret of [API_KEY, WEBHOOK_SECRET, INSTALLATION_TOKEN, STRANGER_PAT, FINE_GRAINED, 'MIIEowIBAAKCAQEA', 'BEGIN RSA PRIVATE KEY']) {
        expect(body).not.toContain(secret);
      }
      expect(body).toContain(REDACTED);
    }
    expect(JSON.parse(raw[0]!).messages[1].content).toContain(`# Leak ${REDACTED}`);
  });

  it('sends the analysis call clean too', async () => {
    const { scope, raw } = modelEndpoint();
    scope.post('/chat/completions').reply(200, completion(JSON.stringify(ANALYSIS)));
    const { client } = testClient({ secrets: [WEBHOOK_SECRET] });

    await client.analyse({ task: { title: 't', body: `${WEBHOOK_SECRET}`, comments: [], instructions: API_KEY } }, new TokenLedger());

    scope.done();
    expect(raw[0]).not.toContain(WEBHOOK_SECRET);
    expect(raw[0]).not.toContain(API_KEY);
  });
});
