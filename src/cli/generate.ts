import { lstat, mkdir, mkdtemp, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { TokenLedger, type TaskText } from '../llm/index.js';
import { readLocalConfig, readLocalRepository } from '../pipeline/local-repo.js';
import { attemptPassed, attemptProblems } from '../pipeline/attempt.js';
import type { RepoSource } from '../pipeline/ports.js';
import { solveTask, type Attempted, type SolveProgress } from '../pipeline/solve.js';
import { formatPercent, formatTestCounts } from '../render/common.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import type { MutationReport } from '../validate/report.js';
import { decodeText, type InputFile } from '../validate/workspace.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import { cliValidationPorts } from './validation-ports.js';
import { questionsText, summaryText, type Written } from './generate-text.js';
import { EXIT, listenForInterrupt, wantsColor, type CliIo } from './io.js';
import { explainModelError, openModel, type ModelSetup } from './model.js';

export const GenerateOptionsSchema = z.object({
  /** The task, as the argument: its first line is the title, the rest the description. */
  task: z.string().optional(),
  issueFile: z.string().min(1).optional(),
  repo: z.string().min(1).default('.'),
  out: z.string().min(1).optional(),
  write: z.boolean().default(false),
  model: z.string().trim().min(1).max(200).optional(),
  attempts: z.number().int().min(1).max(10).optional(),
  answer: z.array(z.string().trim().min(1, 'an --answer must not be empty')).default([]),
  assume: z.boolean().default(false),
  record: z.string().min(1).optional(),
  replay: z.string().min(1).optional(),
});
export type GenerateCliOptions = z.infer<typeof GenerateOptionsSchema>;

/** An issue file larger than this is not an issue. */
const MAX_ISSUE_BYTES = 1024 * 1024;

/** Where the files go: a folder given with --out, the checkout itself (--write alone), or a new folder. */
interface OutputPlan {
  /** Null: a new folder under the temporary directory, made when there is something to write. */
  readonly dir: string | null;
  /** --write: files that exist are replaced (only when validation passed). */
  readonly replace: boolean;
}

/**
 * `code4py generate TASK`: the bot's pipeline on a local checkout, with no GitHub — understanding (its
 * questions printed instead of posted), the repository context, generation, validation in the sandbox and
 * repairs — then the files written to a folder, the pull request body the bot would open and the
 * validation summary on stdout. Exit 0 when validation passed, 1 when it failed or the task needs
 * answers first, 2 on bad usage or an error.
 */
export async function generateCommand(options: GenerateCliOptions, io: CliIo): Promise<number> {
  const linter = createRuffLinter();
  const interrupt = listenForInterrupt();
  const progress = (line: string): void => void io.stderr.write(`code4py: ${line}\n`);
  let setup: ModelSetup | undefined;
  try {
    const repoDir = resolve(options.repo);
    const repoStat = await stat(repoDir).catch(() => null);
    if (!repoStat?.isDirectory()) throw new UsageError(`--repo ${options.repo} is not a folder. Give the checkout to work on (default: the current folder).`);
    const task = await readTask(options);
    const local = await readLocalConfig(repoDir);
    if (local.ignoredExtends) progress(`${local.source}: _extends is ignored outside GitHub`);
    const config = options.attempts ? { ...local.config, max_attempts: options.attempts } : local.config;
    const out = await planOutput(options, repoDir);
    setup = await openModel(io.env, { model: options.model ?? config.model, record: options.record, replay: options.replay });
    const sandboxEnv = readSandboxEnv(io.env);
    const sandbox = await getSandbox(sandboxEnv.kind, sandboxEnv.python);
    progress(`model ${setup.model} at ${setup.endpoint}; sandbox ${sandbox.sandbox.backend}, Python ${sandbox.python.version}`);
    progress('understanding the task…');

    const usage = new TokenLedger(config.max_tokens_per_task);
    let result;
    try {
      result = await solveTask(
        {
          task,
          config,
          model: setup.model,
          usage,
          mayAsk: !options.assume && options.answer.length === 0,
          repository: async () => {
            const repo = await readLocalRepository(repoDir, config);
            if (repo.notes.length > 0) progress(`left out of the repository: ${repo.notes.map((n) => n.message).join('; ')}`);
            return repo;
          },
          onProgress: (event) => progress(describe(event)),
        },
        { model: setup.client, sandbox, linter, signal: interrupt.signal, ...cliValidationPorts(io.env, sandbox) },
      );
    } catch (error) {
      if (interrupt.signal.aborted) {
        progress('interrupted; nothing was written');
        return EXIT.error;
      }
      throw explainModelError(setup, error);
    }
    progress(`${usage.snapshot.total} tokens in ${usage.snapshot.calls} model calls`);
    if (result.kind === 'clarification') {
      io.stdout.write(questionsText(result.questions, result.analysis.assumptions));
      return EXIT.failed;
    }
    const written = await writeOutput(result, out);
    io.stdout.write(summaryText({ result, written, model: setup.model, usage: usage.snapshot, color: wantsColor(io) }));
    return result.passed ? EXIT.passed : EXIT.failed;
  } finally {
    interrupt.release();
    await setup?.recorder?.flush();
    await linter.close();
  }
}

/** The task from the argument or --issue-file: the first line is the title (a markdown `#` heading or not). */
async function readTask(options: GenerateCliOptions): Promise<TaskText> {
  if (options.task !== undefined && options.issueFile) throw new UsageError('give the task as the argument or with --issue-file FILE, not both.');
  let text = options.task;
  if (options.issueFile) {
    const raw = await readFile(options.issueFile).catch((error: NodeJS.ErrnoException) => {
      throw new UsageError(`cannot read the issue file ${options.issueFile}: ${error.code ?? error.message}`);
    });
    if (raw.length > MAX_ISSUE_BYTES) throw new UsageError(`${options.issueFile} is larger than 1 MiB; an issue file holds a title line and a description.`);
    const decoded = decodeText(raw);
    if (decoded === null) throw new UsageError(`${options.issueFile} is not UTF-8 text; an issue file holds a title line and a description.`);
    text = decoded;
  }
  if (text === undefined || text.trim() === '') {
    throw new UsageError('say what to build: code4py generate "Add a median(values) function to stats.py", or --issue-file FILE with a title line and a description.');
  }
  return { ...taskFromText(text), comments: options.answer.map((body) => ({ author: 'you', body })) };
}

function taskFromText(text: string): { title: string; body: string } {
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  const first = lines.findIndex((l) => l.trim() !== '');
  const title = lines[first]!.trim().replace(/^#+\s+/, '');
  const body = lines.slice(first + 1).join('\n').trim();
  // A long one-line task: a short title, and the whole text as the description.
  if (title.length > 120) return { title: `${title.slice(0, 117).trimEnd()}…`, body: [title, body].filter(Boolean).join('\n\n') };
  return { title, body };
}

/** Checked before any model call: a folder with files in it is only written into with --write. */
async function planOutput(options: GenerateCliOptions, repoDir: string): Promise<OutputPlan> {
  if (!options.out) return options.write ? { dir: repoDir, replace: true } : { dir: null, replace: false };
  const dir = resolve(options.out);
  const found = await stat(dir).catch(() => null);
  if (found && !found.isDirectory()) throw new UsageError(`--out ${options.out} is a file; give a folder (a new one, or an empty one).`);
  if (found && !options.write && (await readdir(dir)).length > 0) {
    throw new UsageError(
      `--out ${options.out} is not empty. Code4Py writes into a new or empty folder, and replaces files only with --write (e.g. \`--out ${options.out} --write\`, or \`--write\` alone to apply the change to the checkout).`,
    );
  }
  return { dir, replace: options.write };
}

/**
 * Writes the last attempt's files. Failing code goes only into a new or empty folder, for the user to look
 * at: never among their files, even with --write. Links are never written through.
 */
async function writeOutput(result: Attempted<RepoSource>, plan: OutputPlan): Promise<Written> {
  if (result.changed.length === 0) return { dir: null, files: [], skipped: [], withheld: 'the last attempt wrote no file within the allowed paths' };
  if (!result.passed && plan.dir !== null && (await readdir(plan.dir).catch(() => [])).length > 0) {
    return { dir: null, files: [], skipped: [], withheld: `validation failed, so the files in ${plan.dir} were left as they are; run with --out NEWFOLDER to get the last attempt's files` };
  }
  const dir = plan.dir ?? (await mkdtemp(join(tmpdir(), 'code4py-generate-')));
  const existing = await Promise.all(result.changed.map((f) => lstat(join(dir, f.path)).catch(() => null)));
  const files: Array<{ path: string; kind: 'added' | 'replaced' }> = [];
  const skipped: Array<{ path: string; reason: string }> = [];
  for (const [i, file] of result.changed.entries()) {
    const why = await unsafeTarget(dir, file);
    if (why) {
      skipped.push({ path: file.path, reason: why });
      continue;
    }
    await mkdir(join(dir, file.path, '..'), { recursive: true });
    await writeFile(join(dir, file.path), file.content, { flag: plan.replace ? 'w' : 'wx' });
    files.push({ path: file.path, kind: existing[i] ? 'replaced' : 'added' });
  }
  return { dir, files, skipped };
}

/** Why a file must not be written: a link on its way, or something other than a regular file in its place. */
async function unsafeTarget(dir: string, file: InputFile): Promise<string | null> {
  const parts = file.path.split('/');
  for (let i = 1; i <= parts.length; i++) {
    const found = await lstat(join(dir, ...parts.slice(0, i))).catch(() => null);
    if (!found) return null;
    if (found.isSymbolicLink()) return `${parts.slice(0, i).join('/')} is a symbolic link, which Code4Py never writes through`;
    if (i === parts.length && !found.isFile()) return 'something other than a regular file is in its place';
  }
  return null;
}

function describe(event: SolveProgress): string {
  switch (event.stage) {
    case 'understood': {
      const a = event.analysis;
      return `understood: "${a.title}" (module ${a.module}, ${a.requirements.length} requirements${a.needs_clarification ? `, ${a.questions.length} questions` : ''})`;
    }
    case 'context':
      return `repository context: ${event.context.paths.length} files, ${event.context.tokens} of ${event.context.budget} tokens`;
    case 'attempt':
      return `attempt ${event.number} of ${event.of}: asking the model for the code and its tests…`;
    case 'validated': {
      const { attempt } = event;
      const verdict = attemptPassed(attempt) ? 'passed' : `failed (${attemptProblems(attempt).join('; ')})`;
      return `attempt ${attempt.number}: validation ${verdict}; tests ${formatTestCounts(attempt.report.tests)}`;
    }
    case 'strengthened': {
      const { attempt } = event;
      const score = (m: MutationReport | undefined) => (m?.score == null ? 'n/a' : formatPercent(m.score));
      return attempt.strengthened
        ? `attempt ${attempt.number}: tests strengthened; mutation score ${score(attempt.strengthened.before)} → ${score(attempt.report.mutation)}; tests ${formatTestCounts(attempt.report.tests)}`
        : `attempt ${attempt.number}: tests not strengthened; mutation score ${score(attempt.report.mutation)}`;
    }
  }
}
