/**
 * The last guard before text leaves for the model: every registered secret and every string that looks
 * like a credential is replaced, whatever put it there (an issue quoting a token, a test's output, a
 * repository file). Prompts are built without secrets; this catches what slips through.
 */
export const REDACTED = '[REDACTED]';

const TOKEN_PATTERNS: readonly RegExp[] = [
  // PEM private keys, also when the END line was cut off.
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  // GitHub: personal, OAuth, user-to-server, server-to-server (installation) and refresh tokens.
  /\bgh[pousr]_[A-Za-z0-9]{30,}\b/g,
  /\bgithub_pat_[A-Za-z0-9_]{30,}\b/g,
  // OpenAI-style keys (sk-…, sk-proj-…), which many compatible providers copied.
  /\bsk-[A-Za-z0-9_-]{20,}/g,
  // AWS access key ids.
  /\b(?:AKIA|ASIA)[0-9A-Z]{16}\b/g,
];

/** Shorter registered values would redact ordinary words; the patterns above still apply to them. */
const MIN_SECRET_LENGTH = 6;

export class SecretRedactor {
  private readonly secrets = new Set<string>();

  constructor(secrets: Iterable<string | undefined> = []) {
    for (const secret of secrets) this.register(secret);
  }

  /** Adds a value that must never be sent (a webhook secret, a private key, an installation token). */
  register(secret: string | undefined): void {
    const value = secret?.trim();
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    this.secrets.add(value);
    // A multi-line secret (a PEM key) may appear with other line endings or one line at a time.
    if (/\r?\n/.test(value)) {
      this.secrets.add(value.replace(/\r\n/g, '\n'));
      this.secrets.add(value.replace(/\r?\n/g, '\r\n'));
      for (const line of value.split(/\r?\n/)) if (line.trim().length >= 16) this.secrets.add(line.trim());
    }
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
    return out;
  }
}
