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
    expect(new SecretRedactor([]).redact('-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk')).toBe(REDACTED);
  });

  it('writes [REDACTED] in place of what it removes', () => {
    expect(new SecretRedactor([WEBHOOK_SECRET]).redact(`hook ${WEBHOOK_SECRET}, token ${STRANGER_PAT}.`)).toBe('hook [REDACTED], token [REDACTED].');
  });

  it('registers secrets of six characters or more, without the spaces around them', () => {
    const redactor = new SecretRedactor(['  s3cr3t\n', 'five5', '      ']);
    expect(redactor.redact('x=s3cr3t; five5')).toBe(`x=${REDACTED}; five5`);
  });

  it('registers secrets added later too', () => {
    const redactor = new SecretRedactor([]);
    redactor.register(INSTALLATION_TOKEN.slice(4));
    redactor.register(undefined);
    expect(redactor.redact(`x ${INSTALLATION_TOKEN.slice(4)} y`)).toBe(`x ${REDACTED} y`);
  });

  it('replaces a secret that holds another one whole, whichever was registered first', () => {
    const short = 'abcdef12';
    const long = `${short}-and-more`;
    for (const order of [[short, long], [long, short]]) {
      expect(new SecretRedactor(order).redact(`${long} ${short}`)).toBe(`${REDACTED} ${REDACTED}`);
    }
  });

  it('catches a private key registered with Windows line ends when it appears with Unix ones, and the reverse', () => {
    const crlf = PRIVATE_KEY.replace(/\n/g, '\r\n');
    expect(new SecretRedactor([crlf]).redact(`x ${PRIVATE_KEY} y`)).toBe(`x ${REDACTED} y`);
    expect(new SecretRedactor([PRIVATE_KEY]).redact(`x ${crlf} y`)).toBe(`x ${REDACTED} y`);
  });

  it('catches a secret escaped in a JSON string, as a log line holds it', () => {
    const quoted = 'pa"ss\\word-42';
    const line = JSON.stringify({ msg: 'loaded', key: PRIVATE_KEY, hook: `a ${quoted} b` });
    const redacted = new SecretRedactor([PRIVATE_KEY, quoted]).redact(line);
    expect(redacted).toBe(JSON.stringify({ msg: 'loaded', key: '[REDACTED]', hook: 'a [REDACTED] b' }));
  });

  it('catches each line of a multi-line secret of sixteen characters or more, trimmed, on its own', () => {
    const secret = 'first-line-of-16\n  0123456789abcdef  \n  short-line-15ch  \nend';
    const redactor = new SecretRedactor([secret]);
    expect(redactor.redact('a first-line-of-16 b 0123456789abcdef c short-line-15ch')).toBe(`a ${REDACTED} b ${REDACTED} c short-line-15ch`);
    expect(redactor.redact('x 123456789012345 y')).toBe('x 123456789012345 y');
  });

  it('leaves the text after a private key', () => {
    const text = `before\n${PRIVATE_KEY}\nafter -----END RSA PRIVATE KEY-----`;
    expect(new SecretRedactor([]).redact(text)).toBe(`before\n${REDACTED}\nafter -----END RSA PRIVATE KEY-----`);
    expect(new SecretRedactor([]).redact('-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\nafter')).toBe(`${REDACTED}\nafter`);
  });

  describe('token shapes', () => {
    const body30 = 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5';
    it.each([
      ['a personal access token', `ghp_${body30}`],
      ['an OAuth token', `gho_${body30}`],
      ['a user-to-server token', `ghu_${body30}`],
      ['an installation token', `ghs_${body30}`],
      ['a refresh token', `ghr_${body30}xyz`],
      ['a fine-grained token', `github_pat_${body30}_X`],
      ['an OpenAI key', 'sk-abcdefghij0123456789'],
      ['an OpenAI project key', 'sk-proj-ABC_def-0123456789xyz'],
      ['an AWS access key id', 'AKIAIOSFODNN7EXAMPLE'],
      ['an AWS temporary key id', 'ASIAIOSFODNN7EXAMPLE'],
    ])('redacts %s wherever it stands', (_what, token) => {
      const redactor = new SecretRedactor([]);
      for (const [before, after] of [['', ''], ['token=', ';'], ['"', '"'], ['\\n', '\\t'], ['(', ')']]) {
        expect(redactor.redact(`${before}${token}${after}`)).toBe(`${before}${REDACTED}${after}`);
      }
    });

    it('redacts a GitHub token glued to word characters, as in a JSON line or a renamed variable', () => {
      const redactor = new SecretRedactor([]);
      expect(redactor.redact(`"a\\nghp_${body30}_old"`)).toBe(`"a\\n${REDACTED}_old"`);
      expect(redactor.redact(`xgithub_pat_${body30}`)).toBe(`x${REDACTED}`);
      expect(redactor.redact(`AKIAIOSFODNN7EXAMPLE_old, key\\nsk-abcdefghij0123456789`)).toBe(`${REDACTED}_old, key\\n${REDACTED}`);
    });

    it.each([
      ['a GitHub prefix with a short body', `ghp_${body30.slice(1)}`],
      ['another gh prefix', `ghx_${body30}`],
      ['a fine-grained prefix with a short body', `github_pat_${body30.slice(1)}`],
      ['an sk- key of 19 characters', 'sk-abcdefghij012345678'],
      ['the end of a word followed by sk-', 'flask-sqlalchemy-extension-helpers'],
      ['an AWS-like id of 15 characters', 'AKIAIOSFODNN7EXAMPL'],
      ['an AWS-like id inside a longer upper-case word', 'XAKIAIOSFODNN7EXAMPLE'],
      ['an AWS-like id followed by more', 'AKIAIOSFODNN7EXAMPLEX'],
      ['an AWS-like id in lower case', 'akiaiosfodnn7example'],
      ['a BEGIN line of something else', '-----BEGIN CERTIFICATE-----\nMIIB'],
    ])('leaves %s alone', (_what, text) => {
      expect(new SecretRedactor([]).redact(text)).toBe(text);
    });

    it('redacts private keys of every kind and a key cut off before its END line', () => {
      const redactor = new SecretRedactor([]);
      expect(redactor.redact('-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----')).toBe(REDACTED);
      expect(redactor.redact('-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIF')).toBe(REDACTED);
    });
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
