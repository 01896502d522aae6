import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';

/** The built bot, as `npm start` runs it. */
export const MAIN = join(process.cwd(), 'dist', 'src', 'main.js');

export interface BotProcess {
  readonly child: ChildProcess;
  /** Standard output and error so far. */
  output(): string;
  /** Resolves with the first match of `pattern` in the output; rejects when the process exits first or after `ms`. */
  waitFor(pattern: RegExp, ms?: number): Promise<RegExpExecArray>;
  /** The exit status once the process ends by itself; rejects after `ms` (the process is then left to `stop()`). */
  exitStatus(ms?: number): Promise<number | null>;
  /** SIGTERM, then the exit status (SIGKILL after 10 s). */
  stop(): Promise<number | null>;
}

/** `node dist/src/main.js` with exactly `env` (nothing of the test's own environment) in `cwd`. */
export function startBotProcess(env: NodeJS.ProcessEnv, cwd: string = process.cwd()): BotProcess {
  const child = spawn(process.execPath, [MAIN], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    async waitFor(pattern, ms = 30_000) {
      const end = Date.now() + ms;
      for (;;) {
        const match = pattern.exec(out);
        if (match) return match;
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the bot exited (${child.exitCode ?? child.signalCode}) before printing ${pattern}:\n${out}`);
        if (Date.now() > end) throw new Error(`the bot did not print ${pattern} within ${ms} ms:\n${out}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async exitStatus(ms = 30_000) {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`the bot did not exit within ${ms} ms:\n${out}`)), ms)));
      try {
        return await Promise.race([exited, late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(timer);
      return code;
    },
  };
}
