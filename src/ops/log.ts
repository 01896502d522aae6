import { pino, type Logger } from 'pino';
import { SecretRedactor } from '../llm/secrets.js';

/** Fields that hold credentials wherever they appear in a log line's object (pino's redaction). */
const SECRET_FIELDS = ['token', 'authorization', 'apiKey', 'privateKey', 'secret', 'password', 'cookie'];

/**
 * The bot's logger: pino (as Probot's own), JSON lines on standard output, each task's lines carrying its
 * task id and delivery id. Two guards keep secrets out: pino's `redact` blanks credential fields, and every
 * line is passed through the secret redactor (the operator's secrets and token-shaped strings) as written.
 */
export function createLogger(options: { level?: string; secrets: Iterable<string | undefined>; destination?: pino.DestinationStream }): Logger {
  const redactor = new SecretRedactor(options.secrets);
  const paths = SECRET_FIELDS.flatMap((field) => [field, `*.${field}`, `*.*.${field}`]).concat(['req.headers.authorization', 'req.headers["x-hub-signature-256"]', 'req.headers["x-hub-signature"]']);
  return pino(
    {
      name: 'code4py',
      level: options.level ?? 'info',
      redact: { paths, censor: '[REDACTED]' },
      hooks: { streamWrite: (line) => redactor.redact(line) },
    },
    options.destination ?? pino.destination(1),
  );
}
