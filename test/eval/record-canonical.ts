/**
 * Records a transcript of canonical answers for the first N problems of HumanEval (all 164 by default), for
 * replaying `code4py eval` offline: `npx tsx test/eval/record-canonical.ts OUT.jsonl [N [DATA]]`, DATA by
 * default the whole HumanEval beside the repository (`../shared/data/HumanEval.jsonl.gz`). The scripted
 * model answers every problem with its canonical solution, and the problem's `check` as its tests; it keeps
 * that answer on repair for HumanEval/160 and /162, whose canonical solutions the security stage flags.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { main } from '../../src/cli/main.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { firstProblems, scriptProblems, type Plan } from './canonical.js';

const [out, limit = '164', data = join(process.cwd(), '..', 'shared', 'data', 'HumanEval.jsonl.gz')] = process.argv.slice(2);
if (!out) {
  process.stderr.write('usage: npx tsx test/eval/record-canonical.ts OUT.jsonl [N [DATA]]\n');
  process.exit(2);
}
const ATTEMPTS = 3;
const problems = await firstProblems(Number(limit), data);
const server = await new FakeModelServer().start();
scriptProblems(server, problems, new Map<string, Plan>([['HumanEval/160', 'canonical-always'], ['HumanEval/162', 'canonical-always']]), ATTEMPTS);
const dir = await mkdtemp(join(tmpdir(), 'code4py-record-'));
try {
  // One problem at a time: the fake server answers in the order it was scripted.
  process.exitCode = await main(
    ['eval', data, '--limit', limit, '--attempts', `${ATTEMPTS}`, '--concurrency', '1', '--out', join(dir, 'report.json'), '--record', resolve(out), '--model', 'canonical'],
    { stdout: process.stdout, stderr: process.stderr, env: { ...process.env, OPENAI_BASE_URL: server.baseUrl, OPENAI_API_KEY: 'sk-record-canonical-00000000000000' } },
  );
} finally {
  await server.stop();
  await rm(dir, { recursive: true, force: true });
}
