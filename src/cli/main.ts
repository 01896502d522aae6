import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { Code4PyError, errorMessage, UsageError } from '../errors.js';
import { parsePrice } from '../eval/prices.js';
import { packageInfo } from '../version.js';
import { EXIT, holdInterrupts, type CliIo } from './io.js';

/** A number above 0 and up to `max` for an option (decimals allowed), or a usage error saying what to give. */
function positiveNumber(max: number, message: string): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > max) throw new InvalidArgumentError(message);
    return n;
  };
}

const seconds = positiveNumber(3600, 'give a number of seconds between 0 and 3600, e.g. --timeout 60');
const minutes = positiveNumber(24 * 60, 'give a number of minutes above 0 and up to 1440, e.g. --idle 30');

/** A whole number in [min, max] for an option, with a message that shows a good value. */
function wholeNumber(option: string, min: number, max: number, example: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`give a whole number from ${min} to ${max}, e.g. ${option} ${example}`);
    return n;
  };
}

function price(value: string): { input: number; output: number } {
  const parsed = parsePrice(value);
  if (!parsed) throw new InvalidArgumentError('give the input and output prices in USD per million tokens, e.g. --price 0.15/0.6');
  return parsed;
}

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** Commander's options through the command's schema: a wrong value is a usage error naming the option. */
function parseOptions<S extends z.ZodType>(schema: S, raw: unknown): z.output<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((issue) => {
    const key = String(issue.path[0] ?? '');
    const option = key === 'task' || key === 'data' ? key.toUpperCase() : `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    return `  - ${option}: ${issue.message}`;
  });
  throw new UsageError(`bad options:\n${lines.join('\n')}`);
}

/** Runs the CLI; returns the exit status instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  // Under `code4py server`, Ctrl-C is the client's, passed on as io.interrupt: the server's own signals stay its own.
  const releaseInterrupts = io.interrupt ? () => undefined : holdInterrupts();
  let status: number = EXIT.passed;
  const program = new Command('code4py')
    .description('Code4Py: Python code and tests from GitHub issues, validated in a sandbox.')
    .version(packageInfo().version, '-V, --version', 'print the version of code4py')
    .helpOption('-h, --help', 'print this help')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run `code4py --help` for the commands)');
  program
    .command('validate')
    .description('Validate a folder of Python code and tests in the sandbox: syntax, lint, security, dependencies, tests, coverage.')
    .argument('<dir>', 'the folder with the code and its tests (pytest discovery rules)')
    .option('--json', 'print the JSON report instead of the text summary')
    .option('--timeout <seconds>', 'wall-clock limit for the test run, in seconds (default: tests.timeout_seconds, 180)', seconds)
    .option('--config <file>', "read the settings from this YAML file instead of DIR's .github/code4py.yml (the same keys)")
    .option('--base <ref>', "judge DIR's working tree as a change on top of commit REF of its git checkout: only what the change introduces counts")
    .action(async (dir: string, raw: unknown) => {
      const { validateCommand, ValidateOptionsSchema } = await import('./validate.js');
      status = await validateCommand(dir, parseOptions(ValidateOptionsSchema, raw), io);
    });
  program
    .command('generate')
    .description("Run the bot's pipeline on a local checkout, no GitHub: understand the task, generate code and tests, validate them in the sandbox, repair; write the files and print the pull request the bot would open.")
    .argument('[task]', 'what to build, e.g. "Add a median(values) function to stats.py" (first line: the title)')
    .option('--issue-file <file>', 'read the task from a file instead: a title line (a # heading or not), then the description')
    .option('--repo <dir>', 'the checkout to work on (default: the current folder); its .github/code4py.yml applies')
    .option('--out <dir>', 'where to write the files: a new or empty folder (default: a new folder under the temporary directory)')
    .option('--write', 'replace existing files: with --out, in that folder; alone, in the checkout itself (only when validation passed)')
    .option('--model <name>', 'the model (default: `model` in .github/code4py.yml, else CODE4PY_MODEL, else gpt-4o-mini)')
    .option('--attempts <k>', 'how many answers to try: the first and the repairs (default: max_attempts, 3)', wholeNumber('--attempts', 1, 10, 3))
    .option('--answer <text>', 'an answer to the clarifying questions (repeatable); the task then goes ahead', collect)
    .option('--assume', 'go ahead with the stated assumptions instead of stopping for questions')
    .option('--record <file>', 'append every model exchange to a JSONL transcript')
    .option('--replay <file>', 'answer every model request from a transcript made with --record; nothing is sent')
    .action(async (task: string | undefined, raw: Record<string, unknown>) => {
      // Each command's modules are loaded when it runs: validate must not pay for the model client and the tokenizer.
      const { generateCommand, GenerateOptionsSchema } = await import('./generate.js');
      status = await generateCommand(parseOptions(GenerateOptionsSchema, { ...raw, ...(task !== undefined ? { task } : {}) }), io);
    });
  program
    .command('eval')
    .description("Score a model on HumanEval-style problems through the bot's pipeline: pass@1 with one attempt and with K, the model's own tests, tokens, cost, time per stage, failure classes.")
    .argument('[data]', 'the problems: a HumanEval-style .jsonl or .jsonl.gz file')
    .option('--model <name>', 'the model (default: CODE4PY_MODEL, else gpt-4o-mini)')
    .option('--limit <n>', 'run the first N problems only', wholeNumber('--limit', 1, 1_000_000, 20))
    .option('--attempts <k>', 'answers per problem: the first and the repairs (default: 3)', wholeNumber('--attempts', 1, 10, 3))
    .option('--concurrency <c>', 'problems worked on at once (default: 4)', wholeNumber('--concurrency', 1, 64, 4))
    .option('--out <report>', 'the JSON report (default: eval-<model>.json); the markdown goes beside it (.md)')
    .option('--timeout <seconds>', 'wall-clock limit of each test run, in seconds (default: 60)', seconds)
    .option('--price <in/out>', "this model's prices in USD per million input/output tokens, e.g. 0.15/0.6", price)
    .option('--prices <file>', 'a JSON or YAML price table, {"model": {"input": 0.15, "output": 0.6}}, over the built-in one')
    .option('--fresh', 'run every problem again instead of resuming from the cached results')
    .option('--strengthen <rounds>', 'test-strengthening rounds after a passing answer: the surviving mutants go back to the model (default: 1; 0 for none)', wholeNumber('--strengthen', 0, 5, 1))
    .option('--record <file>', 'append every model exchange to a JSONL transcript')
    .option('--replay <file>', 'answer every model request from a transcript made with --record; nothing is sent')
    .option('--compare <reports...>', 'print two or more JSON reports side by side instead of running')
    .action(async (data: string | undefined, raw: Record<string, unknown>) => {
      const { evalCommand, EvalOptionsSchema } = await import('./eval.js');
      status = await evalCommand(parseOptions(EvalOptionsSchema, { ...raw, ...(data !== undefined ? { data } : {}) }), io);
    });
  program
    .command('server')
    .description(
      "Keep a validator running for `code4py validate`, so that each one skips loading code4py, compiling Ruff and probing the sandbox: it serves the commands run by the same user with the same environment (others run on their own). Runs in the foreground until Ctrl-C, --stop, or --idle minutes without a command.",
    )
    .option('--stop', 'stop the running server (its running validations are interrupted)')
    .option('--status', 'say whether a server runs, since when, and how many validations it served')
    .option('--idle <minutes>', 'stop after this many minutes without a command (default: 30)', minutes)
    .action(async (raw: Record<string, unknown>) => {
      const { serverCommand, ServerOptionsSchema } = await import('./server.js');
      status = await serverCommand(parseOptions(ServerOptionsSchema, raw), io, main);
    });
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return status;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.passed : EXIT.error;
    }
    if (error instanceof Code4PyError) {
      io.stderr.write(`code4py: ${error.message}\n`);
      return EXIT.error;
    }
    io.stderr.write(`code4py: internal error: ${errorMessage(error)}\n`);
    return EXIT.error;
  } finally {
    releaseInterrupts();
  }
}
