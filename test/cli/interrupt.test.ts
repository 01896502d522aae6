import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const SCRIPT = join('test', 'fixtures', 'processes', 'interrupted-command.ts');

async function run(signals: 1 | 2): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT, String(signals)], { cwd: process.cwd(), stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout === 'ready\n') child.kill('SIGINT');
  });
  return new Promise((done) => child.on('close', (code, signal) => done({ code, signal, stdout })));
}

describe('Ctrl-C in a CLI command', () => {
  it('aborts the command once and lets it clean up and choose its status, even when signal-exit (loaded later) listens after it', async () => {
    const result = await run(1);
    expect(result).toEqual({ code: 2, signal: null, stdout: 'ready\naborted\ncleaned up\n' });
  }, 30_000);

  it('ends the process at once on a second Ctrl-C, with status 130', async () => {
    const result = await run(2);
    expect(result).toEqual({ code: 130, signal: null, stdout: 'ready\naborted\n' });
  }, 30_000);
});
