import { createServer, type Socket } from 'node:net';
import { isAbsolute } from 'node:path';
import { Writable } from 'node:stream';
import { z } from 'zod';
import { UsageError } from '../errors.js';
import { EXIT, type CliIo } from './io.js';
import { buildId, differingVariables, frame, lineReader, type ServerMessage, type ServerStatus } from './server-protocol.js';

/** Why a command is interrupted when the server stops under it: its progress says so instead of a bare "interrupted". */
const STOPPING = 'the code4py server is stopping';

/** The CLI's entry, `main`, which the server runs each command with (passed in: main.ts dispatches to the server). */
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

export interface CommandServerOptions {
  readonly idleMinutes: number;
  readonly run: RunCommand;
  readonly log: (line: string) => void;
  /** What every command gets warm (Ruff). */
  readonly shared: NonNullable<CliIo['shared']>;
}

/**
 * `code4py server`'s socket side: takes one request a connection, runs the commands it accepts with the
 * client's streams, folder, environment and Ctrl-C, and stops when asked, or when idle.
 */
export class CommandServer {
  /** Settles once the server has stopped taking commands and the last running one has ended. */
  readonly stopped: Promise<void>;
  private finish!: () => void;
  private readonly running = new Set<AbortController>();
  private readonly startedAt = new Date().toISOString();
  private readonly socketServer = createServer((conn) => this.accept(conn));
  private served = 0;
  private stopping = false;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(private readonly options: CommandServerOptions) {
    this.stopped = new Promise<void>((resolve) => (this.finish = resolve));
  }

  listen(socket: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socketServer.once('error', (error: NodeJS.ErrnoException) =>
        reject(error.code === 'EADDRINUSE' ? new UsageError('another code4py server started at the same moment; stop it first with `code4py server --stop`') : error),
      );
      this.socketServer.listen(socket, () => {
        this.idle();
        resolve();
      });
    });
  }

  status(): ServerStatus {
    return { pid: process.pid, build: buildId(), startedAt: this.startedAt, served: this.served, running: this.running.size, idleMinutes: this.options.idleMinutes };
  }

  /** Takes no more commands, interrupts those running, and settles `stopped` once they have ended. */
  stop(why: string): void {
    if (this.stopping) return;
    this.stopping = true;
    clearTimeout(this.idleTimer);
    this.options.log(`stopping (${why})`);
    this.socketServer.close();
    for (const abort of this.running) abort.abort(new Error(STOPPING));
    if (this.running.size === 0) this.finish();
  }

  close(): void {
    clearTimeout(this.idleTimer);
    this.socketServer.close();
  }

  private idle(): void {
    clearTimeout(this.idleTimer);
    if (this.running.size > 0 || this.stopping) return;
    const minutes = this.options.idleMinutes;
    this.idleTimer = setTimeout(() => this.stop(`${minutes} minutes without a command`), minutes * 60_000);
  }

  private accept(conn: Socket): void {
    let abort: AbortController | null = null;
    let first = true;
    const read = lineReader((line) => {
      if (!first) {
        if (abort && SignalSchema.safeParse(parseJson(line)).success) abort.abort(new Error('interrupted'));
        return;
      }
      first = false;
      const parsed = RequestSchema.safeParse(parseJson(line));
      if (!parsed.success) return this.decline(conn, 'that is not a code4py request (a client of another version?)');
      const request = parsed.data;
      if (request.kind === 'status') return void conn.end(frame({ kind: 'status', ...this.status() }));
      if (request.kind === 'stop') {
        conn.end(frame({ kind: 'stopping', running: this.running.size }));
        return this.stop('asked to stop');
      }
      const reason = this.refusal(request);
      if (reason) return this.decline(conn, reason);
      abort = new AbortController();
      void this.execute(conn, request, abort);
    });
    let tooLong = false;
    conn.on('data', (chunk: Buffer) => {
      if (tooLong || read(chunk)) return;
      tooLong = true;
      this.decline(conn, 'the request is too long');
    });
    // A client that goes away (Ctrl-C twice, killed) interrupts its validation: nothing is left running for nobody.
    conn.on('close', () => abort?.abort(new Error('interrupted')));
    conn.on('error', () => abort?.abort(new Error('interrupted')));
  }

  private decline(conn: Socket, reason: string): void {
    this.options.log(`declined a command: ${reason}`);
    conn.end(frame({ kind: 'declined', reason }));
  }

  private refusal(request: Run): string | null {
    if (this.stopping) return 'it is stopping';
    if (request.build !== buildId()) return 'it runs another build of code4py (started before an upgrade or a rebuild); stop it with `code4py server --stop` and start it again';
    if (request.argv[0] !== 'validate') return 'it runs only `code4py validate`';
    const differ = differingVariables(request.env, process.env);
    if (differ.length === 0) return null;
    const named = differ.length > 6 ? `${differ.slice(0, 6).join(', ')} and ${differ.length - 6} more` : differ.join(', ');
    return `it runs with another environment (${named} ${differ.length === 1 ? 'differs' : 'differ'}); start it in this shell to use it here`;
  }

  private async execute(conn: Socket, request: Run, abort: AbortController): Promise<void> {
    const send = (message: ServerMessage): void => void (conn.writable && conn.write(frame(message)));
    const stream = (kind: 'stdout' | 'stderr', isTTY: boolean) =>
      Object.assign(new Writable({ write: (chunk: Buffer, _encoding, next) => (send({ kind, data: chunk.toString('utf8') }), next()) }), { isTTY });
    this.running.add(abort);
    clearTimeout(this.idleTimer);
    this.served += 1;
    const started = performance.now();
    let code: number = EXIT.error;
    try {
      code = await this.options.run(request.argv, {
        stdout: stream('stdout', request.stdoutTTY),
        stderr: stream('stderr', request.stderrTTY),
        env: request.env,
        cwd: request.cwd,
        interrupt: abort.signal,
        shared: this.options.shared,
      });
    } finally {
      this.running.delete(abort);
      send({ kind: 'exit', status: code });
      conn.end();
      this.options.log(`${request.argv.join(' ')}: exit ${code} in ${Math.round(performance.now() - started)} ms${abort.signal.aborted ? ' (interrupted)' : ''}`);
      if (this.stopping && this.running.size === 0) this.finish();
      this.idle();
    }
  }
}

function parseJson(line: string): unknown {
  try {
    return JSON.parse(line);
  } catch {
    return null;
  }
}
