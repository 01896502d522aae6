import { join, resolve } from 'node:path';
import { defaultValidationConfig } from '../config/schema.js';
import { renderText } from '../render/text.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import { validateFolder, type ProgressEvent, type ValidateOptions } from '../validate/pipeline.js';
import type { Report } from '../validate/report.js';
import { EXIT, type CliIo, type ValidateCliOptions } from './main.js';

/** `--base REF`: the working tree as a change on top of REF, with the base's results kept in the CLI's cache folder. */
async function validateAgainst(dir: string, ref: string, options: ValidateOptions, env: NodeJS.ProcessEnv, progress: (line: string) => void): Promise<Report> {
  const { readGitTree, readWorkingTree } = await import('../validate/change/git-tree.js');
  const { validateChange } = await import('../validate/change/validate-change.js');
  const { cliCacheDir, FolderBaselineCache } = await import('../validate/change/file-cache.js');
  const base = await readGitTree(dir, ref, options.config);
  const head = await readWorkingTree(dir, options.config);
  progress(`the working tree (${head.files.length} files) against ${ref} (${base.sha.slice(0, 12)}, ${base.files.length} files)`);
  return validateChange({ base: { sha: base.sha, files: base.files }, head: head.files, notes: head.notes }, { ...options, baselines: new FolderBaselineCache(join(cliCacheDir(env), 'baselines')) });
}

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
    // The YAML parser is loaded only when there is a file to read: every import delays the first sandbox run.
    const base = options.config ? await (await import('../config/load.js')).loadValidationConfig(options.config) : defaultValidationConfig();
    const config = options.timeout ? { ...base, tests: { ...base.tests, timeout_seconds: options.timeout } } : base;
    const progress = (line: string): void => void io.stderr.write(`code4py: ${line}\n`);
    const sandbox = await getSandbox(sandboxEnv.kind, sandboxEnv.python);
    progress(`sandbox: ${sandbox.sandbox.backend}, Python ${sandbox.python.version}`);
    const validation = {
      config,
      sandbox,
      linter,
      signal: abort.signal,
      onProgress: (event: ProgressEvent) =>
        progress(event.kind === 'copied' ? `copied ${event.files} files into a private work folder` : `${event.stage}: ${STATUS_MARK[event.status]} (${event.summary})`),
    };
    const report = options.base ? await validateAgainst(resolve(dir), options.base, validation, io.env, progress) : await validateFolder(resolve(dir), validation);
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
