import { resolve } from 'node:path';
import { defaultValidationConfig } from '../config/schema.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import type { ProgressEvent } from '../validate/pipeline.js';
import { EXIT, type CliIo, type ValidateCliOptions } from './main.js';

const STATUS_MARK: Record<string, string> = { passed: 'ok', warning: 'warning', failed: 'FAILED', skipped: 'skipped', error: 'ERROR' };

/** `code4py validate DIR`: the report on stdout (text, or JSON with --json), progress on stderr. */
export async function validateCommand(dir: string, options: ValidateCliOptions, io: CliIo): Promise<number> {
  // Ruff's WebAssembly takes a moment to compile: start it first, so it overlaps the sandbox's start.
  const linter = createRuffLinter();
  const abort = new AbortController();
  const onSignal = (): void => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const sandboxEnv = readSandboxEnv(io.env);
    // The sandbox's probe runs its Python while the pipeline's modules load (they are not needed before).
    const sandboxReady = getSandbox(sandboxEnv.kind, sandboxEnv.python);
    sandboxReady.catch(() => undefined);
    const [{ validateFolder }, { renderText }] = await Promise.all([import('../validate/pipeline.js'), import('../render/text.js')]);
    // The YAML parser is loaded only when there is a file to read: every import delays the first sandbox run.
    const base = options.config ? await (await import('../config/load.js')).loadValidationConfig(options.config) : defaultValidationConfig();
    const config = options.timeout ? { ...base, tests: { ...base.tests, timeout_seconds: options.timeout } } : base;
    const progress = (line: string): void => void io.stderr.write(`code4py: ${line}\n`);
    const sandbox = await sandboxReady;
    progress(`sandbox: ${sandbox.sandbox.backend}, Python ${sandbox.python.version}`);
    const report = await validateFolder(resolve(dir), {
      config,
      sandbox,
      linter,
      signal: abort.signal,
      onProgress: (event: ProgressEvent) =>
        progress(event.kind === 'copied' ? `copied ${event.files} files into a private work folder` : `${event.stage}: ${STATUS_MARK[event.status]} (${event.summary})`),
    });
    if (abort.signal.aborted) {
      progress('interrupted; nothing was left behind');
      return EXIT.error;
    }
    io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { color: Boolean(io.stdout.isTTY) && !io.env.NO_COLOR }));
    return report.passed ? EXIT.passed : EXIT.failed;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await linter.close();
  }
}
