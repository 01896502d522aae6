import { execFileSync, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** The `code4py` command as npm installs it: package.json's bin (the bundle scripts/bundle-cli.mjs makes). */
export const CLI_BIN = join(process.cwd(), z.object({ bin: z.object({ code4py: z.string() }) }).parse(JSON.parse(readFileSync('package.json', 'utf8'))).bin.code4py);

/** Builds the package when the bin is missing (a test run without `npm test`'s build). */
export function ensureBuilt(): void {
  if (!existsSync(CLI_BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
}

export interface BinRun {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** `code4py ARGS` as a new process of the bin, with `env` as its whole environment; SIGINT after `interruptAfterMs` if given. */
export async function runBin(args: readonly string[], env: NodeJS.ProcessEnv, interruptAfterMs?: number, cwd?: string): Promise<BinRun> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'], ...(cwd ? { cwd } : {}) });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (interruptAfterMs) setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}

export interface RunningBin {
  readonly child: ChildProcessWithoutNullStreams;
  /** What it wrote to stdout and stderr so far. */
  output(): string;
  /** Resolves once its output contains `text`; rejects if it exits first or after `timeoutMs`. */
  waitFor(text: string, timeoutMs?: number): Promise<void>;
  /** Resolves with its exit status once it has exited. */
  exited(): Promise<number | null>;
}

/** `code4py ARGS` started and left running (`code4py server`), with `env` as its whole environment. */
export function startBin(args: readonly string[], env: NodeJS.ProcessEnv): RunningBin {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: 'pipe' });
  let text = '';
  const onData = (d: Buffer) => void (text += d.toString());
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exit = new Promise<number | null>((resolve) => child.on('close', resolve));
  return {
    child,
    output: () => text,
    exited: () => exit,
    waitFor: (wanted, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no "${wanted}" within ${timeoutMs} ms; output so far:\n${text}`)), timeoutMs);
        const check = (): void => {
          if (!text.includes(wanted)) return;
          clearTimeout(timer);
          resolve();
        };
        child.stdout.on('data', check);
        child.stderr.on('data', check);
        void exit.then(() => {
          clearTimeout(timer);
          if (text.includes(wanted)) resolve();
          else reject(new Error(`it exited before "${wanted}"; output:\n${text}`));
        });
        check();
      }),
  };
}
