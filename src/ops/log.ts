import { pino, type Logger } from 'pino';
import pinoPretty from 'pino-pretty';
import { SecretRedactor } from '../llm/secrets.js';

/** Fields that hold credentials wherever they appear in a log line's object (pino's redaction). */
const SECRET_FIELDS = ['token', 'authorization', 'apiKey', 'privateKey', 'secret', 'password', 'cookie'];

export interface LoggerOptions {
  readonly level?: string;
  readonly secrets: Iterable<string | undefined>;
  /** `pretty`: one readable line per entry (pino-pretty); `json`: JSON lines. Default: pretty on a terminal. */
  readonly format?: 'pretty' | 'json' | undefined;
  /** Where lines go (default: standard output). */
  readonly destination?: NodeJS.WritableStream;
  /** Colours in pretty lines (default: when the destination is a terminal and NO_COLOR is unset). */
  readonly color?: boolean;
}

/**
 * The bot's logger: pino (as Probot's own), each task's lines carrying its task id and delivery id. JSON
 * lines for log collectors; readable lines (pino-pretty) for a person at a terminal. Two guards keep
 * secrets out whatever the format: pino's `redact` blanks credential fields, and every line is passed
 * through the secret redactor (the operator's secrets and token-shaped strings) before it is written.
 */
export function createLogger(options: LoggerOptions): Logger {
  const redactor = new SecretRedactor(options.secrets);
  const paths = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]).concat(['req.headers.authorization', 'req.headers["x-hub-signature-256"]', 'req.headers["x-hub-signature"]']);
  const terminal = options.destination ? Boolean((options.destination as { isTTY?: boolean }).isTTY) : Boolean(process.stdout.isTTY);
  const format = options.format ?? (terminal ? 'pretty' : 'json');
  const destination =
    format === 'pretty'
      ? // Synchronous, so the last lines before `process.exit` are not lost; a terminal's volume allows it.
        pinoPretty({ destination: options.destination ?? 1, sync: true, colorize: options.color ?? (terminal && !process.env.NO_COLOR), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' })
      : (options.destination ?? pino.destination(1));
  return pino(
    {
      name: 'code4py',
      level: options.level ?? 'info',
      redact: { paths, censor: '[REDACTED]' },
      hooks: { streamWrite: (line) => redactor.redact(line) },
    },
    destination,
  );
}
