import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';

/** The `code4py` command as npm installs it: package.json's bin (the bundle scripts/bundle-cli.mjs makes). */
export const CLI_BIN = join(process.cwd(), z.object({ bin: z.object({ code4py: z.string() }) }).parse(JSON.parse(readFileSync('package.json', 'utf8'))).bin.code4py);

/** Builds the package when the bin is missing (a test run without `npm test`'s build). */
export function ensureBuilt(): void {
  if (!existsSync(CLI_BIN)) execFileSync('npm', ['run', 'build'], { stdio: 'inherit' });
}
