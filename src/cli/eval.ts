import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { SingleBar } from 'cli-progress';
import { z } from 'zod';
import { RepoConfigSchema } from '../config/repo-config.js';
import { UsageError } from '../errors.js';
import { cacheKey, ResultCache } from '../eval/cache.js';
import { readProblemFile } from '../eval/humaneval.js';
import { renderComparison, renderReport } from '../eval/markdown.js';
import { loadPrices, priceOf, PriceSchema, withDefaultPrices } from '../eval/prices.js';
import { EvalReportSchema, summarise, type EvalReport, type ProblemResult, type ReportMeta } from '../eval/report.js';
import { runEval } from '../eval/run-eval.js';
import { PROMPT_VERSION } from '../llm/index.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import { cliValidationPorts } from './validation-ports.js';
import { EXIT, listenForInterrupt, type CliIo } from './io.js';
import { explainModelError, openModel, type ModelSetup } from './model.js';

export const EvalOptionsSchema = z.object({
  data: z.string().min(1).optional(),
  model: z.string().trim().min(1).max(200).optional(),
  limit: z.number().int().positive().optional(),
  attempts: z.number().int().min(1).max(10).default(3),
  concurrency: z.number().int().min(1).max(64).default(4),
  out: z.string().min(1).optional(),
  compare: z.array(z.string().min(1)).optional(),
  record: z.string().min(1).optional(),
  replay: z.string().min(1).optional(),
  price: PriceSchema.optional(),
  prices: z.string().min(1).optional(),
  timeout: z.number().positive().max(3600).optional(),
  fresh: z.boolean().default(false),
  /** Test-strengthening rounds after a passing answer (mutation.rounds); 0 for none. */
  strengthen: z.number().int().min(0).max(5).default(1),
});
export type EvalCliOptions = z.infer<typeof EvalOptionsSchema>;

/**
 * `code4py eval DATA.jsonl[.gz]`: every problem through the bot's pipeline, scored by its hidden tests;
 * the JSON report and its markdown beside it, rewritten after each problem (so an interrupted run leaves a
 * valid partial report), the markdown on stdout, progress on stderr. `--compare a.json b.json` prints
 * reports side by side. Exit 0 when the run completed, 2 on bad usage, an error or an interruption.
 */
export async function evalCommand(options: EvalCliOptions, io: CliIo): Promise<number> {
  if (options.compare) {
    if (options.data) throw new UsageError('give a data file to run, or --compare REPORT REPORT…, not both.');
    return compareCommand(options.compare, io);
  }
  if (!options.data) throw new UsageError('give the problems to run: code4py eval HumanEval.jsonl.gz (a HumanEval-style .jsonl or .jsonl.gz file), or --compare a.json b.json.');
  const { problems: all, sha256: datasetSha256 } = await readProblemFile(options.data);
  if (all.length === 0) throw new UsageError(`${options.data} holds no problems.`);
  const problems = options.limit ? all.slice(0, options.limit) : all;
  const config = RepoConfigSchema.parse({ max_attempts: options.attempts, mutation: { rounds: options.strengthen }, ...(options.timeout ? { tests: { timeout_seconds: options.timeout } } : {}) });

  const progress = (line: string): void => void io.stderr.write(`code4py: ${line}\n`);
  const interrupt = listenForInterrupt();
  const linter = createRuffLinter();
  let setup: ModelSetup | undefined;
  let bar: SingleBar | undefined;
  try {
    setup = await openModel(io.env, { model: options.model, record: options.record, replay: options.replay });
    const table = withDefaultPrices(options.prices ? await loadPrices(options.prices) : {});
    const listed = priceOf(setup.model, table);
    const price = options.price ? { ...options.price, listedAs: `${setup.model} (--price)` } : listed ? { ...listed.price, listedAs: listed.listedAs } : null;
    const out = resolve(options.out ?? `eval-${setup.model.replace(/[^A-Za-z0-9._-]+/g, '-')}.json`);
    const markdownPath = `${out.replace(/\.json$/i, '')}.md`;
    const cachePath = `${out}.cache.jsonl`;
    if (options.fresh) await rm(cachePath, { force: true });
    const cache = await ResultCache.open(
      cachePath,
      cacheKey({ datasetSha256, model: setup.model, endpoint: setup.identity, attempts: options.attempts, promptVersion: PROMPT_VERSION, testTimeoutSeconds: config.tests.timeout_seconds, strengthen: options.strengthen }),
    );
    if (cache.discarded) progress(`${cachePath} was not reused: ${cache.discarded}`);
    const resumed = problems.filter((p) => cache.results.has(p.task_id)).length;
    const sandboxEnv = readSandboxEnv(io.env);
    const sandbox = await getSandbox(sandboxEnv.kind, sandboxEnv.python);
    progress(
      `${problems.length} problems from ${basename(options.data)}, up to ${options.attempts} attempts each, ${options.concurrency} at a time; ` +
        `model ${setup.model} at ${setup.endpoint}; sandbox ${sandbox.sandbox.backend}, Python ${sandbox.python.version}` +
        (resumed ? `; ${resumed} already done (from ${basename(cachePath)})` : ''),
    );

    const startedAt = new Date().toISOString();
    const started = performance.now();
    const meta = (complete: boolean): ReportMeta => ({
      model: setup!.model,
      endpoint: setup!.endpoint,
      dataset: { file: basename(options.data!), sha256: datasetSha256, problems: all.length },
      attempts: options.attempts,
      promptVersion: PROMPT_VERSION,
      complete,
      startedAt,
      durationMs: performance.now() - started,
      price,
    });
    const order = new Map(problems.map((p, i) => [p.task_id, i]));
    const finished = new Map<string, ProblemResult>();
    const inOrder = () => [...finished.values()].sort((a, b) => order.get(a.taskId)! - order.get(b.taskId)!);
    let writes: Promise<void> = Promise.resolve();
    const save = (report: EvalReport): Promise<void> => (writes = writes.then(() => writeReports(report, out, markdownPath)));

    const tty = Boolean(io.stderr.isTTY);
    if (tty) {
      bar = new SingleBar({ stream: io.stderr, format: 'eval [{bar}] {value}/{total} | passed {passed} | {duration_formatted} elapsed, {eta_formatted} left', hideCursor: true, etaBuffer: 20 });
      bar.start(problems.length, 0, { passed: 0 });
    }
    const outcome = await runEval({
      problems,
      config,
      model: setup.model,
      concurrency: options.concurrency,
      ports: { model: setup.client, sandbox, linter, ...cliValidationPorts(io.env, sandbox) },
      signal: interrupt.signal,
      done: cache.results,
      onResult: async (result, fromCache) => {
        if (!fromCache) await cache.add(result);
        finished.set(result.taskId, result);
        const passed = [...finished.values()].filter((r) => r.passedFinal).length;
        if (bar) bar.update(finished.size, { passed });
        else progress(`[${finished.size}/${problems.length}] ${result.taskId}: ${verdict(result)}${fromCache ? ' (cached)' : ''}`);
        await save(summarise(inOrder(), meta(false)));
      },
    });
    bar?.stop();
    bar = undefined;
    const report = summarise(outcome.results, meta(outcome.complete));
    await save(report);
    io.stdout.write(renderReport(report));
    progress(`report: ${out} and ${markdownPath}`);
    if (outcome.error !== undefined) {
      progress(`stopped after ${outcome.results.length} of ${problems.length} problems; the report is partial, and the same command resumes the run`);
      throw explainModelError(setup, outcome.error);
    }
    if (!outcome.complete) {
      progress(`interrupted after ${outcome.results.length} of ${problems.length} problems: the report is partial; run the same command again to resume`);
      return EXIT.error;
    }
    return EXIT.passed;
  } finally {
    bar?.stop();
    interrupt.release();
    await setup?.recorder?.flush();
    await linter.close();
  }
}

async function compareCommand(paths: readonly string[], io: CliIo): Promise<number> {
  if (paths.length < 2) throw new UsageError('--compare needs two reports or more: code4py eval --compare a.json b.json');
  const reports = await Promise.all(paths.map(async (path) => ({ name: basename(path), report: await readReport(path) })));
  const named = reports.map((r, i) => (reports.filter((o) => o.name === r.name).length > 1 ? { ...r, name: paths[i]! } : r));
  io.stdout.write(renderComparison(named));
  return EXIT.passed;
}

async function readReport(path: string): Promise<EvalReport> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, 'utf8'));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(`cannot read the report ${path}: ${code ?? 'it is not JSON'}. Give JSON reports written by code4py eval --out.`);
  }
  const parsed = EvalReportSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`${path} is not a code4py eval report (${issue?.path.join('.') || 'the file'}: ${issue?.message}). Give JSON reports written by code4py eval --out.`);
  }
  return parsed.data;
}

/** Both files replaced whole (written aside, then renamed), so a reader or a kill never sees half a report. */
async function writeReports(report: EvalReport, jsonPath: string, markdownPath: string): Promise<void> {
  await writeFile(`${jsonPath}.tmp`, `${JSON.stringify(report, null, 2)}\n`);
  await rename(`${jsonPath}.tmp`, jsonPath);
  await writeFile(`${markdownPath}.tmp`, renderReport(report));
  await rename(`${markdownPath}.tmp`, markdownPath);
}

function verdict(result: ProblemResult): string {
  if (result.passedFirst && result.passedFinal) return 'passed (first answer)';
  if (result.passedFinal) return `passed after ${result.attempts} attempts`;
  return `failed (${result.failure}${result.detail ? `: ${result.detail.slice(0, 100)}` : ''})`;
}
