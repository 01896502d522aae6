import { chmod, lstat, mkdir, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { readSandboxEnv } from '../sandbox/env.js';
import { getSandbox } from '../sandbox/select.js';
import { createRuffLinter } from '../validate/ruff/ruff-linter.js';
import { cliCacheRoot } from '../config/cache-root.js';
import { ask } from './client.js';
import { EXIT, listenForInterrupt, type CliIo } from './io.js';
import { buildId, differingVariables, frame, lineReader, serverPaths, type ServerMessage, type ServerStatus } from './server-protocol.js';

export const ServerOptionsSchema = z
  .object({
    stop: z.boolean().default(false),
    status: z.boolean().default(false),
    /** Minutes without a command after which the server stops by itself. */
    idle: z.number().positive().max(24 * 60).default(30),
  })
  .refine((o) => !(o.stop && o.status), { message: 'give --stop or --status, not both', path: ['stop'] });
export type ServerOptions = z.infer<typeof ServerOptionsSchema>;

/** The CLI's entry, `main`, which the server runs each command with (passed in: main.ts dispatches here). */
export type RunCommand = (argv: readonly string[], io: CliIo) => Promise<number>;

const RequestSchema = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('run'),
    build: z.string(),
    argv: z.array(z.string()).max(100),
    cwd: z.string().refine(isAbsolute, 'must be an absolute path'),
    env: z.record(z.string(), z.string()),
    stdoutTTY: z.boolean(),
    stderrTTY: z.boolean(),
  }),
  z.object({ kind: z.literal('status') }),
  z.object({ kind: z.literal('stop') }),
]);
type Run = Extract<z.infer<typeof RequestSchema>, { kind: 'run' }>;
const SignalSchema = z.object({ kind: z.literal('interrupt') });

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
  const linter = createRuffLinter({ warmUp: true });
  const interrupt = listenForInterrupt();
  const running = new Set<AbortController>();
  const state = { served: 0, stopping: false, startedAt: new Date().toISOString() };
  let idleTimer: NodeJS.Timeout | undefined;
  let stopped!: () => void;
  const done = new Promise<void>((resolve) => (stopped = resolve));

  const status = (): ServerStatus => ({ pid: process.pid, build: buildId(), startedAt: state.startedAt, served: state.served, running: running.size, idleMinutes });
  const stop = (why: string): void => {
    if (state.stopping) return;
    state.stopping = true;
    clearTimeout(idleTimer);
    log(`stopping (${why})`);
    server.close();
    for (const abort of running) abort.abort(new Error('interrupted'));
    if (running.size === 0) stopped();
  };
  const idle = (): void => {
    clearTimeout(idleTimer);
    if (running.size === 0 && !state.stopping) idleTimer = setTimeout(() => stop(`${idleMinutes} minutes without a command`), idleMinutes * 60_000);
  };

  const execute = async (conn: Socket, request: Run, abort: AbortController): Promise<void> => {
    const send = (message: ServerMessage): void => void (conn.writable && conn.write(frame(message)));
    const stream = (kind: 'stdout' | 'stderr', isTTY: boolean) =>
      Object.assign(new Writable({ write: (chunk: Buffer, _encoding, next) => (send({ kind, data: chunk.toString('utf8') }), next()) }), { isTTY });
    running.add(abort);
    clearTimeout(idleTimer);
    state.served += 1;
    const started = performance.now();
    let code: number = EXIT.error;
    try {
      code = await run(request.argv, {
        stdout: stream('stdout', request.stdoutTTY),
        stderr: stream('stderr', request.stderrTTY),
        env: request.env,
        cwd: request.cwd,
        interrupt: abort.signal,
        shared: { linter },
      });
    } finally {
      running.delete(abort);
      send({ kind: 'exit', status: code });
      conn.end();
      log(`${request.argv.join(' ')}: exit ${code} in ${Math.round(performance.now() - started)} ms${abort.signal.aborted ? ' (interrupted)' : ''}`);
      if (state.stopping && running.size === 0) stopped();
      idle();
    }
  };

  const decline = (conn: Socket, reason: string): void => {
    log(`declined a command: ${reason}`);
    conn.end(frame({ kind: 'declined', reason }));
  };

  const accept = (conn: Socket): void => {
    let abort: AbortController | null = null;
    let first = true;
    const read = lineReader((line) => {
      if (!first) {
        if (abort && SignalSchema.safeParse(parseJson(line)).success) abort.abort(new Error('interrupted'));
        return;
      }
      first = false;
      const parsed = RequestSchema.safeParse(parseJson(line));
      if (!parsed.success) return decline(conn, 'that is not a code4py request (a client of another version?)');
      const request = parsed.data;
      if (request.kind === 'status') return void conn.end(frame({ kind: 'status', ...status() }));
      if (request.kind === 'stop') {
        conn.end(frame({ kind: 'stopping', running: running.size }));
        return stop('asked to stop');
      }
      const reason = refusal(request);
      if (reason) return decline(conn, reason);
      abort = new AbortController();
      void execute(conn, request, abort);
    });
    conn.on('data', (chunk: Buffer) => {
      if (!read(chunk)) decline(conn, 'the request is too long');
    });
    // A client that goes away (Ctrl-C twice, killed) interrupts its validation: nothing is left running for nobody.
    conn.on('close', () => abort?.abort(new Error('interrupted')));
    conn.on('error', () => abort?.abort(new Error('interrupted')));
  };

  const refusal = (request: Run): string | null => {
    if (state.stopping) return 'it is stopping';
    if (request.build !== buildId()) return 'it runs another build of code4py (started before an upgrade or a rebuild); stop it with `code4py server --stop` and start it again';
    if (request.argv[0] !== 'validate') return 'it runs only `code4py validate`';
    const differ = differingVariables(request.env, process.env);
    if (differ.length > 0) {
      const named = differ.length > 6 ? `${differ.slice(0, 6).join(', ')} and ${differ.length - 6} more` : differ.join(', ');
      return `it runs with another environment (${named} ${differ.length === 1 ? 'differs' : 'differ'}); start it in this shell to use it here`;
    }
    return null;
  };

  // The sandbox is probed now, so that a host where it does not work says so at once, not at the first command.
  const sandboxEnv = readSandboxEnv(io.env);
  const sandbox = await getSandbox(sandboxEnv.kind, sandboxEnv.python);
  // The validate command's modules, loaded now rather than by the first command.
  await Promise.all([import('./validate.js'), import('../validate/pipeline.js'), import('../render/text.js'), import('./validation-ports.js')]);
  const server = createServer(accept);
  await listen(server, socket);
  await chmod(socket, 0o600);
  log(`serving \`code4py validate\` on ${socket} (pid ${process.pid}; sandbox ${sandbox.sandbox.backend}, Python ${sandbox.python.version})`);
  log(`it serves commands run by this user with this environment; it stops after ${idleMinutes} minutes without one, on Ctrl-C, or with \`code4py server --stop\``);
  interrupt.signal.addEventListener('abort', () => stop('interrupted'));
  idle();
  try {
    await done;
    return EXIT.passed;
  } finally {
    interrupt.release();
    clearTimeout(idleTimer);
    await rm(socket, { force: true });
    await linter.close();
    log('stopped');
  }
}

function listen(server: Server, socket: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(error.code === 'EADDRINUSE' ? new UsageError('another code4py server started at the same moment; stop it first with `code4py server --stop`') : error),
    );
    server.listen(socket, () => resolve());
  });
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}
