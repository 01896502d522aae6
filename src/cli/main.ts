import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { z } from 'zod';
import { Code4PyError, errorMessage } from '../errors.js';
import { validateCommand } from './validate.js';

export interface CliIo {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

/** Exit statuses (DESIGN.md §5): 0 passed, 1 failed validation, 2 usage or internal error. */
export const EXIT = { passed: 0, failed: 1, error: 2 } as const;

const ValidateOptionsSchema = z.object({
  json: z.boolean().default(false),
  timeout: z.number().positive().max(3600).optional(),
  config: z.string().min(1).optional(),
});
export type ValidateCliOptions = z.infer<typeof ValidateOptionsSchema>;

function seconds(value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value.trim()) || !(n > 0) || n > 3600) {
    throw new InvalidArgumentError('give a number of seconds between 0 and 3600, e.g. --timeout 60');
  }
  return n;
}

/** Runs the CLI; returns the exit status instead of exiting, so tests can call it in-process. */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let status: number = EXIT.passed;
  const program = new Command('code4py')
    .description('Code4Py: Python code and tests from GitHub issues, validated in a sandbox.')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) })
    .showHelpAfterError('(run `code4py --help` for the commands)');
  program
    .command('validate')
    .description('Validate a folder of Python code and tests in the sandbox: syntax, lint, security, dependencies, tests, coverage.')
    .argument('<dir>', 'the folder with the code and its tests (pytest discovery rules)')
    .option('--json', 'print the JSON report (DESIGN.md §5) instead of the text summary')
    .option('--timeout <seconds>', 'wall-clock limit for the test run, in seconds (default: tests.timeout_seconds, 60)', seconds)
    .option('--config <file>', 'a YAML config file with the keys of .github/code4py.yml (tests, lint, security, dependencies, limits)')
    .action(async (dir: string, raw: unknown) => {
      status = await validateCommand(dir, ValidateOptionsSchema.parse(raw), io);
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
  }
}
