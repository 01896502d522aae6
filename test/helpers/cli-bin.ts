import { execFileSync, spawn } from 'node:child_process';
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
export async function runBin(args: readonly string[], env: NodeJS.ProcessEnv, interruptAfterMs?: number): Promise<BinRun> {
  const child = spawn(process.execPath, [CLI_BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  if (interruptAfterMs) setTimeout(() => child.kill('SIGINT'), interruptAfterMs);
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  return { code, stdout, stderr };
}
