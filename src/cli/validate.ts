import { lstat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { CONFIG_PATH } from '../config/repo-config.js';
import { defaultValidationConfig, type ValidationConfig } from '../config/schema.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import { cliCacheRoot } from '../config/cache-root.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import type { ChangeOptions } from '../validate/change/validate-change.js';
import type { ProgressEvent } from '../validate/pipeline.js';
import type { Report } from '../validate/report.js';
import { EXIT, listenForInterrupt, wantsColor, type CliIo } from './io.js';

export const ValidateOptionsSchema = z.object({
  json: z.boolean().default(false),
  timeout: z.number().positive().max(3600).optional(),
  /** Another settings file instead of DIR/.github/code4py.yml. */
  config: z.string().min(1).optional(),
  /** A commit-ish of DIR's git checkout: the working tree is judged as a change on top of it. */
  base: z.string().min(1).optional(),
});
export type ValidateCliOptions = z.infer<typeof ValidateOptionsSchema>;

/** `--base REF`: the working tree as a change on top of REF, with the base's results kept in the CLI's cache folder. */
async function validateAgainst(dir: string, ref: string, options: ChangeOptions, progress: (line: string) => void): Promise<Report> {
  const { readGitTree, readWorkingTree } = await import('../validate/change/git-tree.js');
  const { validateChange } = await import('../validate/change/validate-change.js');
  const base = await readGitTree(dir, ref, options.config);
  const head = await readWorkingTree(dir, options.config);
  progress(`the working tree (${head.files.length} files) against ${ref} (${base.sha.slice(0, 12)}, ${base.files.length} files)`);
  return validateChange({ base: { sha: base.sha, files: base.files }, head: head.files, notes: head.notes }, options);
}

const STATUS_MARK: Record<string, string> = { passed: 'ok', warning: 'warning', failed: 'FAILED', skipped: 'skipped', error: 'ERROR' };

/** `code4py validate DIR`: the report on stdout (text, or JSON with --json), progress on stderr. */
export async function validateCommand(dir: string, options: ValidateCliOptions, io: CliIo): Promise<number> {
  // Ruff's WebAssembly takes a moment to compile: start it first, so it overlaps the sandbox's start. One
  // check follows soon: it compiles what it uses, which costs less CPU than a warm-up beside the tests.
  // Under `code4py server`, the server's warm one.
  const linter = io.shared?.linter ?? createRuffLinter({ warmUp: false });
  const interrupt = listenForInterrupt(io);
  const progress = (line: string): void => void io.stderr.write(`code4py: ${line}\n`);
  const cwd = io.cwd ?? process.cwd();
  const folder = resolve(cwd, dir);
  try {
    const sandboxEnv = readSandboxEnv(io.env);
    // The sandbox's probe runs its Python while the pipeline's modules load (they are not needed before).
    const sandboxReady = getSandbox(sandboxEnv.kind, sandboxEnv.python, { probeCache: join(cliCacheRoot(io.env), 'probes') });
    sandboxReady.catch(() => undefined);
    const [{ validateFolder }, { renderText }, { cliValidationPorts }] = await Promise.all([
      import('../validate/pipeline.js'),
      import('../render/text.js'),
      import('./validation-ports.js'),
    ]);
    const base = await readSettings(folder, options.config, cwd, progress);
    const config = options.timeout ? { ...base, tests: { ...base.tests, timeout_seconds: options.timeout } } : base;
    const sandbox = await sandboxReady;
    progress(`sandbox: ${sandbox.sandbox.backend}, Python ${sandbox.python.version}`);
    const validation = {
      ...cliValidationPorts(io.env, sandbox),
      config,
      sandbox,
      linter,
      signal: interrupt.signal,
      onProgress: (event: ProgressEvent) =>
        progress(event.kind === 'copied' ? `copied ${event.files} files into a private work folder` : `${event.stage}: ${STATUS_MARK[event.status]} (${event.summary})`),
    };
    const report = options.base ? await validateAgainst(folder, options.base, validation, progress) : await validateFolder(folder, validation);
    if (interrupt.signal.aborted) {
      // Ctrl-C says "interrupted"; another reason (the server stopping under the command) is named.
      const reason: unknown = interrupt.signal.reason;
      const why = reason instanceof Error && reason.message !== 'interrupted' ? ` (${reason.message})` : '';
      progress(`interrupted${why}; nothing was left behind`);
      return EXIT.error;
    }
    io.stdout.write(options.json ? `${JSON.stringify(report, null, 2)}\n` : renderText(report, { color: wantsColor(io) }));
    return report.passed ? EXIT.passed : EXIT.failed;
  } finally {
    interrupt.release();
    if (linter !== io.shared?.linter) await linter.close();
  }
}

/**
 * The settings the bot would use: `--config FILE` when given, else DIR's own `.github/code4py.yml` (the
 * same file, read with the same schema), else the defaults. The YAML parser is loaded only when there is a
 * file to read: every import delays the first sandbox run.
 */
async function readSettings(dir: string, configFile: string | undefined, cwd: string, progress: (line: string) => void): Promise<ValidationConfig> {
  if (configFile) {
    progress(`settings from ${configFile}`);
    return (await import('../config/load.js')).loadValidationConfig(resolve(cwd, configFile));
  }
  if (!(await lstat(join(dir, CONFIG_PATH)).catch(() => null))) return defaultValidationConfig();
  const local = await (await import('../pipeline/local-repo.js')).readLocalConfig(dir);
  progress(`settings from ${local.source}${local.ignoredExtends ? ' (its _extends is ignored outside GitHub)' : ''}`);
  return local.config;
}
