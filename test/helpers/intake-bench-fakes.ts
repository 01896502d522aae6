/**
 * The loopback world `npm run bench:intake` (bench/intake.ts) runs the bot against, in a process of its own
 * so that the fakes' work (every GitHub request and answer checked against GitHub's OpenAPI description)
 * stays out of the load generator:
 * - FakeGitHub served over HTTP as a GitHub Enterprise host (fake-github-http.ts), with the repository
 *   octo/calc, `alice` (write permission) who labels issues, and `visitor` (read permission) who comments;
 * - the fake model server, with answers for the label tasks;
 * - the body of every delivery the bench sends, made from GitHub's examples (webhook-payloads.ts);
 * - a redis-server on a free loopback port (redis.ts) for the bot's Redis mode, when Debian's redis-server
 *   is installed (`redisUrl` is null otherwise, with the reason).
 *
 * Usage: `node --import tsx test/helpers/intake-bench-fakes.ts <dir> <label tasks> <help comments>`.
 * Writes `<dir>/payloads.json` and prints one JSON line when ready; prints what GitHub and the model saw as
 * one JSON line for each `report` line on standard input; exits when standard input closes.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { z } from 'zod';
import { FakeGitHub, testApp } from './fake-github.js';
import { serveFakeGitHub } from './fake-github-http.js';
import { FakeModelServer } from './fake-model.js';
import { RedisServer } from './redis.js';
import { issueCommentCreatedPayload, issuesLabeledPayload } from './webhook-payloads.js';
import { ANALYSIS, SOLUTION } from './word-counter.js';

const OWNER = 'octo';
const NAME = 'calc';
const REPO = `${OWNER}/${NAME}`;
/** Help comments come from someone who may read the repository but not use the bot: the task reads the config and the permission, and ends without a write. */
const VISITOR = 'visitor';
const MAINTAINER = 'alice';
const HELP_ISSUES_FROM = 1000;

const Args = z.tuple([z.string().min(1), z.coerce.number().int().min(0).max(20), z.coerce.number().int().min(0).max(100_000)]);

/** What payloads.json holds: bodies as GitHub sends them (JSON text), by event. */
interface BenchPayloads {
  readonly labels: ReadonlyArray<{ readonly event: 'issues'; readonly body: string }>;
  readonly helpComments: ReadonlyArray<{ readonly event: 'issue_comment'; readonly body: string }>;
}

async function main(): Promise<void> {
  const parsed = Args.safeParse(process.argv.slice(2));
  if (!parsed.success) throw new Error(`usage: intake-bench-fakes.ts <dir> <label tasks 0-20> <help comments>: ${parsed.error.message}`);
  const [dir, labelTasks, helpComments] = parsed.data;

  const github = new FakeGitHub();
  github.addRepo({ owner: OWNER, name: NAME, files: { 'README.md': '# calc\n', 'requirements.txt': '' } });
  github.setPermission(REPO, MAINTAINER, 'write');
  github.setPermission(REPO, VISITOR, 'read');
  const model = await new FakeModelServer().start();
  const labels: BenchPayloads['labels'][number][] = [];
  for (let i = 0; i < labelTasks; i++) {
    const issue = github.addIssue(REPO, { title: 'Add a word counter', body: 'Write `count_words(text)` in words.py, with tests.', author: MAINTAINER });
    model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
    labels.push({ event: 'issues', body: JSON.stringify(issuesLabeledPayload({ sender: MAINTAINER, issue: { number: issue.number, title: issue.title, body: issue.body } })) });
  }
  const help: BenchPayloads['helpComments'][number][] = [];
  for (let i = 0; i < helpComments; i++) {
    const number = HELP_ISSUES_FROM + i;
    help.push({ event: 'issue_comment', body: JSON.stringify(issueCommentCreatedPayload({ sender: VISITOR, body: '/code4py help', issue: { number, author: VISITOR }, commentId: 7_000_000 + i })) });
  }
  const payloads: BenchPayloads = { labels, helpComments: help };
  await writeFile(join(dir, 'payloads.json'), JSON.stringify(payloads));
  const server = await serveFakeGitHub(github);
  const redis = new RedisServer();
  const redisUrl = await redis.start().then(
    () => ({ url: redis.url }),
    (error: unknown) => ({ url: null, why: error instanceof Error ? error.message : String(error) }),
  );

  const app = testApp();
  process.stdout.write(`${JSON.stringify({ githubHost: server.host, modelBaseUrl: model.baseUrl, redisUrl: redisUrl.url, redisMissing: 'why' in redisUrl ? redisUrl.why : null, appId: app.appId, privateKey: app.privateKey, payloads: join(dir, 'payloads.json') })}\n`);

  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() !== 'report') return;
    const repo = github.repo(REPO);
    const report = {
      violations: github.violations,
      requests: github.requests.length,
      pulls: [...repo.pulls.values()].map((p) => ({ number: p.number, state: p.state, closes: /Closes #(\d+)/.exec(p.body ?? '')?.[1] ?? null })),
      checkRuns: [...repo.checkRuns.values()].map((r) => ({ name: r.name, conclusion: r.conclusion })),
    };
    process.stdout.write(`${JSON.stringify(report)}\n`);
  });
  lines.once('close', () => {
    void Promise.all([server.close(), model.stop(), redisUrl.url ? redis.stop() : undefined]).finally(() => process.exit(0));
  });
}

main().catch((error: unknown) => {
  process.stderr.write(`intake-bench-fakes: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
