import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import { cliCacheRoot } from '../config/cache-root.js';
import { ask } from './client.js';
import { EXIT, listenForInterrupt, type CliIo } from './io.js';
import { CommandServer, type RunCommand } from './command-server.js';
import { serverPaths, type ServerMessage } from './server-protocol.js';

export const ServerOptionsSchema = z
  .object({
    stop: z.boolean().default(false),
    status: z.boolean().default(false),
    /** Minutes without a command after which the server stops by itself. */
    idle: z.number().positive().max(24 * 60).default(30),
  })
  .refine((o) => !(o.stop && o.status), { message: 'give --stop or --status, not both', path: ['stop'] });
export type ServerOptions = z.infer<typeof ServerOptionsSchema>;

/** Unix socket paths are limited to 108 bytes with the final NUL (Linux's sun_path). */
const MAX_SOCKET_PATH = 107;

/** `code4py server`: serve `code4py validate` until stopped; or, with --status or --stop, ask the running one. */
export async function serverCommand(options: ServerOptions, io: CliIo, run: RunCommand): Promise<number> {
  const { dir, socket } = serverPaths(io.env);
  if (options.status || options.stop) {
    const answer = await ask(socket, options.stop ? { kind: 'stop' } : { kind: 'status' });
    const said = answer?.[0];
    if (!said) {
      io.stdout.write(`no code4py server runs for ${cliCacheRoot(io.env)}\n`);
      return options.stop ? EXIT.passed : EXIT.failed;
    }
    io.stdout.write(`${describe(said)}\n`);
    return EXIT.passed;
  }
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH) {
    throw new UsageError(`the server's socket path ${socket} is too long for a Unix socket (${Buffer.byteLength(socket)} bytes, at most ${MAX_SOCKET_PATH}): set CODE4PY_CACHE_DIR to a shorter folder`);
  }
  await makePrivateFolder(dir);
  if (await lstat(socket).catch(() => null)) {
    const other = await ask(socket, { kind: 'status' });
    const status = other?.[0];
    if (status?.kind === 'status') throw new UsageError(`a code4py server already runs for ${cliCacheRoot(io.env)} (pid ${status.pid}); stop it first with \`code4py server --stop\``);
    await rm(socket, { force: true }); // left by a server that did not stop cleanly
  }
  return serve(socket, options.idle, io, run);
}

/** The socket's folder, created or tightened to mode 0700 and refused unless it is this user's. */
async function makePrivateFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const stat = await lstat(dir);
  if (!stat.isDirectory() || stat.uid !== process.getuid?.()) throw new UsageError(`${dir} is not a folder of this user's: remove it, or set CODE4PY_CACHE_DIR to another folder`);
  await chmod(dir, 0o700);
}

function describe(message: ServerMessage): string {
  if (message.kind === 'status') {
    return `a code4py server runs (pid ${message.pid}, since ${message.startedAt}): ${message.served} validation${message.served === 1 ? '' : 's'} served, ${message.running} running; stops after ${message.idleMinutes} minutes idle`;
  }
  if (message.kind === 'stopping') return `the code4py server is stopping${message.running > 0 ? ` (interrupting ${message.running} running validation${message.running === 1 ? '' : 's'})` : ''}`;
  return 'the code4py server gave an unexpected answer';
}

async function serve(socket: string, idleMinutes: number, io: CliIo, run: RunCommand): Promise<number> {
  const log = (line: string): void => void io.stderr.write(`code4py server: ${line}\n`);
  // The sandbox is probed first, so that a host where it does not work says so at once, not at the first command.
  const sandboxEnv = readSandboxEnv(io.env);
  // The same probe cache as `code4py validate`'s, so that its commands find this probe in the process's memo.
  const sandbox = await getSandbox(sandboxEnv.kind, sandboxEnv.python, { probeCache: join(cliCacheRoot(io.env), 'probes') });
  const linter = createRuffLinter({ warmUp: true });
  const interrupt = listenForInterrupt();
  const server = new CommandServer({ idleMinutes, run, log, shared: { linter } });
  let listening = false;
  try {
    // The validate command's modules, loaded now rather than by the first command.
    await Promise.all([import('./validate.js'), import('../validate/pipeline.js'), import('../render/text.js'), import('./validation-ports.js')]);
    await server.listen(socket);
    listening = true;
    await chmod(socket, 0o600);
    log(`serving \`code4py validate\` on ${socket} (pid ${process.pid}; sandbox ${sandbox.sandbox.backend}, Python ${sandbox.python.version})`);
    log(`it serves commands run by this user with this environment; it stops after ${idleMinutes} minutes without one, on Ctrl-C, or with \`code4py server --stop\``);
    interrupt.signal.addEventListener('abort', () => server.stop('interrupted'));
    if (interrupt.signal.aborted) server.stop('interrupted'); // Ctrl-C while it started
    await server.stopped;
    return EXIT.passed;
  } finally {
    interrupt.release();
    server.close();
    await linter.close();
    if (listening) {
      await rm(socket, { force: true });
      log('stopped');
    }
  }
}
