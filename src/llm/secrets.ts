/**
 * The last guard before text leaves for the model: every registered secret and every string that looks
 * like a credential is replaced, whatever put it there (an issue quoting a token, a test's output, a
 * repository file). Prompts are built without secrets; this catches what slips through.
 */
export const REDACTED = '[REDACTED]';

/**
 * Credential shapes. GitHub's prefixes are distinctive enough to need no word boundary, which a token
 * glued to a word character would slip past: `\nghp_…` in a JSON log line, or `ghp_…_old`.
 */
const TOKEN_PATTERNS: readonly RegExp[] = [
  // PEM private keys, also when the END line was cut off.
  /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g,
  // GitHub: personal, OAuth, user-to-server, server-to-server (installation) and refresh tokens.
  /gh[pousr]_[A-Za-z0-9]{30,}/g,
  /github_pat_[A-Za-z0-9_]{30,}/g,
  // OpenAI-style keys (sk-…, sk-proj-…), which many compatible providers copied; not the end of a word
  // ("flask-…", "task-…"), but after an escaped line break or tab (`\nsk-…` in JSON).
  /(?:(?<![A-Za-z0-9])|(?<=\\[nrt]))sk-[A-Za-z0-9_-]{20,}/g,
  // AWS access key ids.
  /(?<![0-9A-Z])(?:AKIA|ASIA)[0-9A-Z]{16}(?![0-9A-Z])/g,
];

/** Shorter registered values would redact ordinary words; the patterns above still apply to them. */
const MIN_SECRET_LENGTH = 6;

/** Lines of a multi-line secret shorter than this are left to the whole secret (a PEM key's lines are 64 characters). */
const MIN_LINE_LENGTH = 16;

export class SecretRedactor {
  private readonly secrets = new Set<string>();

  constructor(secrets: Iterable<string | undefined>) {
    for (const secret of secrets) this.register(secret);
  }

  /** Adds a value that must never be sent (a webhook secret, a private key, an installation token). */
  register(secret: string | undefined): void {
    const value = secret?.trim();
    if (!value || value.length < MIN_SECRET_LENGTH) return;
    // A multi-line secret (a PEM key) may appear with other line endings or one line at a time; any secret
    // may appear escaped in a JSON string (a log line).
    const lines = value.split(/\r?\n/);
    for (const variant of [value, lines.join('\n'), lines.join('\r\n')]) {
      this.secrets.add(variant);
      this.secrets.add(JSON.stringify(variant).slice(1, -1));
    }
    for (const line of lines) if (line.trim().length >= MIN_LINE_LENGTH) this.secrets.add(line.trim());
  }

  redact(text: string): string {
    let out = text;
    // Longest first, so a secret that contains another is replaced whole.
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) out = out.split(secret).join(REDACTED);
    for (const pattern of TOKEN_PATTERNS) out = out.replace(pattern, REDACTED);
    return out;
  }
}
