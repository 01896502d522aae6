/**
 * The `code4py` command's side of `code4py server`: hands `code4py validate …` to a running server, and
 * prints what comes back. It runs before the rest of the command loads (a command the server takes never
 * loads it), so it imports only the protocol module and Node's own.
 */
import { existsSync, statSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { buildId, frame, lineReader, readServerMessage, serverPaths, type ClientRequest, type ServerMessage } from './server-protocol.js';

export interface ClientStreams {
  readonly stdout: NodeJS.WritableStream & { isTTY?: boolean };
  readonly stderr: NodeJS.WritableStream & { isTTY?: boolean };
  readonly env: NodeJS.ProcessEnv;
}

const INTERRUPTED = 130;
const ERROR = 2;

/**
 * Runs `code4py ARGV` in the server when one runs for this user, cache folder and build, and takes it:
 * resolves to the command's exit status; or to null when this process should run the command itself (no
 * server, another build or environment, or not `validate`: the server says why, and this prints it).
 */
export async function viaServer(argv: readonly string[], streams: ClientStreams, cwd: string = process.cwd()): Promise<number | null> {
  if (argv[0] !== 'validate') return null;
  const { dir, socket } = serverPaths(streams.env);
  if (!existsSync(socket)) return null;
  const folder = statSync(dir, { throwIfNoEntry: false });
  if (!folder || folder.uid !== process.getuid?.() || (folder.mode & 0o077) !== 0) {
    streams.stderr.write(`code4py: not using the server: its folder ${dir} is not private to this user (mode 0700); stop the server and remove the folder\n`);
    return null;
  }
  const conn = await connect(socket);
  if (!conn) return null; // a socket left by a server that stopped without removing it
  const request: ClientRequest = {
    kind: 'run',
    build: buildId(),
    argv: [...argv],
    cwd,
    env: Object.fromEntries(Object.entries(streams.env).filter((entry): entry is [string, string] => entry[1] !== undefined)),
    stdoutTTY: Boolean(streams.stdout.isTTY),
    stderrTTY: Boolean(streams.stderr.isTTY),
  };
  return converse(conn, request, streams);
}

/** Sends one request and settles with the exit status (null when declined), passing output and Ctrl-C along. */
function converse(conn: Socket, request: ClientRequest, streams: ClientStreams): Promise<number | null> {
  return new Promise((resolve) => {
    let interrupts = 0;
    let answered = false;
    let settled = false;
    const settle = (status: number | null): void => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      conn.destroy();
      resolve(status);
    };
    // Ctrl-C once: the server interrupts the validation (it cleans up and says so); twice: leave at once.
    const onSignal = (name: NodeJS.Signals): void => {
      interrupts += 1;
      if (interrupts > 1) process.exit(name === 'SIGTERM' ? 143 : INTERRUPTED);
      conn.write(frame({ kind: 'interrupt' }));
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const onMessage = (message: ServerMessage): void => {
      if (message.kind === 'stdout' || message.kind === 'stderr') {
        answered = true;
        streams[message.kind].write(message.data);
      } else if (message.kind === 'exit') {
        settle(message.status);
      } else if (message.kind === 'declined') {
        streams.stderr.write(`code4py: not using the server: ${message.reason}\n`);
        settle(interrupts > 0 ? INTERRUPTED : null);
      }
    };
    const read = lineReader((line) => {
      const message = readServerMessage(line);
      if (message) onMessage(message);
    });
    const onLost = (): void => {
      if (!settled) settle(lost(streams, answered));
    };
    conn.on('data', (chunk: Buffer) => {
      if (!read(chunk)) onLost();
    });
    conn.on('error', onLost);
    conn.on('close', onLost);
    conn.write(frame(request));
  });
}

/** The server went away before the exit status: run here if it had not started; else say so. */
function lost(streams: ClientStreams, answered: boolean): number | null {
  if (!answered) return null;
  streams.stderr.write('code4py: the server stopped before the validation ended (stopped or crashed); run the command again\n');
  return ERROR;
}

/** A connection to the socket, or null when nothing listens there. */
export function connect(socket: string): Promise<Socket | null> {
  return new Promise((resolve) => {
    const conn = createConnection(socket);
    conn.once('connect', () => {
      conn.removeAllListeners('error');
      resolve(conn);
    });
    conn.once('error', () => resolve(null));
  });
}

/** One request answered with messages until the server closes: `status` and `stop`. */
export async function ask(socket: string, request: ClientRequest): Promise<ServerMessage[] | null> {
  const conn = await connect(socket);
  if (!conn) return null;
  return new Promise((resolve) => {
    const messages: ServerMessage[] = [];
    const read = lineReader((line) => {
      const message = readServerMessage(line);
      if (message) messages.push(message);
    });
    conn.on('data', (chunk: Buffer) => void read(chunk));
    conn.on('error', () => resolve(messages));
    conn.on('close', () => resolve(messages));
    conn.write(frame(request));
  });
}
