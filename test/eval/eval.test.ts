import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EvalReportSchema, type EvalReport } from '../../src/eval/report.js';
import { runCli } from '../helpers/cli.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { firstProblems, HUMANEVAL, scriptProblems, type Plan } from './canonical.js';

/*
 * The harness on the first 10 HumanEval problems, K = 2. The scripted model answers six with the canonical
 * solution, two with a wrong first answer (one returns None, one does not parse) that it fixes on repair,
 * one wrongly every time, and one with prose instead of the JSON object: 6 pass with the first answer, 8
 * within two attempts. No test-strengthening round (`--strengthen 0`): its own test is test/eval/strengthen.test.ts.
 */
const LIMIT = 10;
const ATTEMPTS = 2;
const PLANS = new Map<string, Plan>([
  ['HumanEval/6', 'wrong-first'],
  ['HumanEval/7', 'syntax-first'],
  ['HumanEval/8', 'always-wrong'],
  ['HumanEval/9', 'unusable'],
]);
const API_KEY = 'sk-test-eval-0123456789abcdefghijklmnop';
const SLOW = 300_000;

let dir: string;
let server: FakeModelServer;
let transcript: string;
let live: { code: number; report: EvalReport; stdout: string; stderr: string };

async function report(path: string): Promise<EvalReport> {
  return EvalReportSchema.parse(JSON.parse(await readFile(path, 'utf8')));
}

/** What must be the same however the answers were obtained: each problem's outcome. */
function outcomes(r: EvalReport) {
  return r.results.map(({ taskId, passedFirst, passedFinal, attempts, firstFailure, failure, validationPassed, modelTests }) => ({ taskId, passedFirst, passedFinal, attempts, firstFailure, failure, validationPassed, modelTests }));
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'code4py-eval-'));
  transcript = join(dir, 'canonical.jsonl');
  server = await new FakeModelServer().start();
  scriptProblems(server, await firstProblems(LIMIT), PLANS, ATTEMPTS);
  // One problem at a time: the fake server answers in the order it was scripted.
  const run = await runCli(
    ['eval', HUMANEVAL, '--limit', `${LIMIT}`, '--attempts', `${ATTEMPTS}`, '--concurrency', '1', '--out', join(dir, 'live.json'), '--record', transcript, '--model', 'fake-model', '--strengthen', '0'],
    { ...process.env, OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: API_KEY },
  );
  live = { ...run, report: await report(join(dir, 'live.json')) };
  await server.stop();
}, SLOW);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('code4py eval against a local OpenAI-compatible server', () => {
  it('scores pass@1 with the first answer and within K attempts, exactly', () => {
    expect(live.code).toBe(0);
    expect(live.report).toMatchObject({ complete: true, problems: LIMIT, attempts: ATTEMPTS, passedFirst: 6, passedFinal: 8, validationPassed: 8, attemptsUsed: 12 });
    expect(live.report.passAt1).toEqual({ first: 0.6, final: 0.8 });
    expect(live.report.dataset).toMatchObject({ file: 'HumanEval.jsonl.gz', problems: 12 });
    expect(live.report.results.map((r) => r.taskId)).toEqual(Array.from({ length: LIMIT }, (_, i) => `HumanEval/${i}`));
  });

  it('classes each failure: a wrong value, a syntax error, prose instead of the answer', () => {
    const byId = new Map(live.report.results.map((r) => [r.taskId, r]));
    expect(byId.get('HumanEval/6')).toMatchObject({ passedFirst: false, passedFinal: true, attempts: 2, firstFailure: 'test-failure', failure: null });
    expect(byId.get('HumanEval/7')).toMatchObject({ passedFirst: false, passedFinal: true, attempts: 2, firstFailure: 'syntax', failure: null });
    expect(byId.get('HumanEval/8')).toMatchObject({ passedFirst: false, passedFinal: false, attempts: 2, firstFailure: 'test-failure', failure: 'test-failure' });
    expect(byId.get('HumanEval/8')?.detail).toMatch(/^assert None == /);
    expect(byId.get('HumanEval/9')).toMatchObject({ passedFirst: false, passedFinal: false, attempts: 0, failure: 'unusable-output', detail: 'the answer is not a valid JSON object' });
    expect(live.report.failures).toEqual({ syntax: 0, import: 0, 'test-failure': 1, timeout: 0, 'unusable-output': 1, 'token-budget': 0 });
  });

  it("reports the model's own tests, tokens, cost and time per stage", () => {
    // Each solution brings one test (the problem's check): HumanEval/9 brought none, HumanEval/8's failed.
    expect(live.report.modelTests).toEqual({ problems: 9, allPassed: 8, cases: 9, casesPassed: 8, passedButHiddenFailed: 0 });
    // The fake server reports 500 prompt and 100 completion tokens a call: 10 analyses, 14 solutions.
    expect(live.report.tokens).toEqual({ prompt: 12_000, completion: 2_400, total: 14_400, calls: 24 });
    expect(live.report.cost).toBeNull(); // no price is known for "fake-model"
    for (const stage of ['validation', 'scoring', 'total'] as const) expect(live.report.timeMs[stage]).toBeGreaterThan(0);
    expect(live.report.timeMs.total).toBeGreaterThanOrEqual(live.report.timeMs.validation + live.report.timeMs.scoring);
  });

  it('writes the markdown table beside the JSON report and prints it', async () => {
    const markdown = await readFile(join(dir, 'live.md'), 'utf8');
    expect(markdown).toContain('| pass@1, first answer (`passedFirst`) | **6 / 10 (60.0%)** |');
    expect(markdown).toContain('| pass@1 within 2 attempts (`passedFinal`) | **8 / 10 (80.0%)** |');
    expect(markdown).toContain('| repair uplift | +2 problems (+20.0 points) |');
    expect(markdown).toContain('| test failure | 1 |');
    expect(live.stdout).toBe(markdown);
    expect(live.stderr).toContain('code4py: [10/10] HumanEval/9: failed (unusable-output');
  });
});

describe('code4py eval from a transcript of canonical answers', () => {
  it('gives exactly the same numbers with nothing sent, also several problems at a time', async () => {
    const sent = server.bodies.length;
    const run = await runCli(['eval', HUMANEVAL, '--limit', `${LIMIT}`, '--attempts', `${ATTEMPTS}`, '--concurrency', '3', '--out', join(dir, 'replay.json'), '--replay', transcript, '--model', 'fake-model', '--strengthen', '0']);
    expect(run.code).toBe(0);
    const replayed = await report(join(dir, 'replay.json'));
    expect(replayed).toMatchObject({ complete: true, problems: LIMIT, passedFirst: 6, passedFinal: 8, tokens: live.report.tokens, endpoint: 'replay of canonical.jsonl' });
    expect(outcomes(replayed)).toEqual(outcomes(live.report));
    expect(server.bodies.length).toBe(sent);
  }, SLOW);

  it('leaves a valid partial report on Ctrl-C, and the same command resumes where it stopped', async () => {
    const out = join(dir, 'resumed.json');
    const args = ['eval', HUMANEVAL, '--limit', `${LIMIT}`, '--attempts', `${ATTEMPTS}`, '--concurrency', '1', '--out', out, '--replay', transcript, '--model', 'fake-model', '--strengthen', '0'];
    // The CLI from source, in its own process, so that Ctrl-C is a real SIGINT.
    const child = spawn(process.execPath, ['--import', 'tsx', join('src', 'cli.ts'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let interrupted = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      // Once: a second Ctrl-C ends the process at once.
      if (!interrupted && stderr.includes('[2/10]')) interrupted = child.kill('SIGINT');
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toMatch(/interrupted after \d+ of 10 problems: the report is partial; run the same command again to resume/);
    const partial = await report(out);
    expect(partial.complete).toBe(false);
    expect(partial.problems).toBeGreaterThanOrEqual(2);
    expect(partial.problems).toBeLessThan(LIMIT);
    expect(outcomes(partial)).toEqual(outcomes(live.report).slice(0, partial.problems));
    expect(await readFile(out.replace(/\.json$/, '.md'), 'utf8')).toContain('**Partial report:**');

    const resumed = await runCli(args);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`; ${partial.problems} already done (from resumed.json.cache.jsonl)`);
    const full = await report(out);
    expect(full).toMatchObject({ complete: true, problems: LIMIT, passedFirst: 6, passedFinal: 8 });
    expect(outcomes(full)).toEqual(outcomes(live.report));
  }, SLOW);

  it('compares two reports side by side', async () => {
    const run = await runCli(['eval', '--compare', join(dir, 'live.json'), join(dir, 'replay.json')]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('|  | live.json | replay.json |');
    expect(run.stdout).toContain('| pass@1, first answer | **60.0%** (6) | **60.0%** (6) |');
    expect(run.stdout).toContain('| pass@1 within K attempts | **80.0%** (8) | **80.0%** (8) |');
    expect(run.stdout).toContain('| endpoint | 127.0.0.1:');
    expect(run.stdout).toContain('Solved only by live.json (0)');
  });
});

describe('code4py eval with bad arguments', () => {
  it.each([
    [['eval'], /give the problems to run: code4py eval HumanEval\.jsonl\.gz/],
    [['eval', HUMANEVAL, '--attempts', '0'], /option '--attempts <k>' argument '0' is invalid\. give a whole number from 1 to 10, e\.g\. --attempts 3/],
    [['eval', HUMANEVAL, '--concurrency', 'many'], /give a whole number from 1 to 64, e\.g\. --concurrency 4/],
    [['eval', HUMANEVAL, '--price', 'cheap'], /give the input and output prices in USD per million tokens, e\.g\. --price 0\.15\/0\.6/],
    [['eval', 'no-such-file.jsonl'], /cannot read no-such-file\.jsonl: ENOENT/],
    [['eval', '--compare', 'a.json'], /--compare needs two reports or more/],
    [['eval', HUMANEVAL, '--record', 'a.jsonl', '--replay', 'b.jsonl'], /give --record FILE or --replay FILE, not both/],
  ])('%j exits 2 and says what was wrong', async (args, message) => {
    const run = await runCli(args, { ...process.env, OPENAI_API_KEY: API_KEY });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
  });

  it('names the line of a data file that is not a problem', async () => {
    const data = join(dir, 'bad.jsonl');
    await writeFile(data, '{"task_id": "x/0", "prompt": "def f():\\n", "entry_point": "f", "test": ""}\n{"task_id": "x/1"}\n');
    const run = await runCli(['eval', data], { ...process.env, OPENAI_API_KEY: API_KEY });
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/bad\.jsonl line 2: prompt: Invalid input: expected string/);
  });

  it('says how to reach a model when none is configured', async () => {
    const env = { ...process.env };
    delete env.OPENAI_API_KEY;
    delete env.OPENAI_BASE_URL;
    const run = await runCli(['eval', HUMANEVAL, '--limit', '1'], env);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('code4py: no model is configured: set OPENAI_API_KEY to your OpenAI API key, or point OPENAI_BASE_URL at an OpenAI-compatible server (Ollama: http://localhost:11434/v1');
  });
});
