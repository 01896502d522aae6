import { createHash } from 'node:crypto';
import { appendFile, readFile } from 'node:fs/promises';
import { z } from 'zod';
import { Code4PyError, UsageError } from '../errors.js';
import { stableStringify } from '../json.js';

/*
 * Model exchanges recorded at the HTTP level, one JSON object a line, and answered again from the file:
 * the openai SDK takes a custom `fetch`, so everything above it (retries, the response_format fallback,
 * corrective rounds, token accounting) runs exactly as against a live server. Only the request's method,
 * endpoint and body are kept — never a header, so never the API key — and the body has already been
 * through the client's secret redaction.
 */

const TRANSCRIPT_VERSION = 1;

/** What a replay miss answers: a status no retry policy repeats, and that no real server sends for a chat request. */
const REPLAY_MISS_STATUS = 422;

/** Response headers worth replaying: the body's type and the waits a rate limit asks for. */
const KEPT_HEADERS = ['content-type', 'retry-after', 'retry-after-ms'] as const;

const EntrySchema = z.object({
  v: z.literal(TRANSCRIPT_VERSION),
  /** sha256 of the normalised request (method, endpoint, body); what a replay looks answers up by. */
  key: z.string().regex(/^[0-9a-f]{64}$/),
  request: z.object({ method: z.string().min(1), endpoint: z.string(), body: z.unknown() }),
  response: z.object({ status: z.number().int().min(100).max(599), headers: z.record(z.string(), z.string()), body: z.string() }),
});
export type TranscriptEntry = z.infer<typeof EntrySchema>;

/** A request the transcript has no answer for: what was sent, and how it differs from the nearest one recorded. */
export class TranscriptMissError extends Code4PyError {
  override readonly name = 'TranscriptMissError';
}

/**
 * Two parts of a prompt differ between runs of the same work, so they are replaced by placeholders before
 * requests are compared; every other byte is compared as it is:
 * - the data fences' random nonce (src/llm/untrusted.ts), read from the fence markers;
 * - memory addresses in Python's reprs (`<function f at 0x7f3a…>`), which a repair prompt quotes from
 *   pytest's assertion messages and which address-space randomisation changes on every run.
 */
const FENCE_NONCE = /<<<[A-Z0-9_]+-([0-9a-f]{16})\b/g;
const PYTHON_ADDRESS = /\bat 0x[0-9a-f]{4,16}\b/g;

/** The request body as it is compared: JSON with sorted keys, fence nonces and Python addresses replaced. */
export function normaliseBody(text: string): string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return text;
  }
  let canonical = stableStringify(value);
  for (const nonce of new Set([...canonical.matchAll(FENCE_NONCE)].map((m) => m[1]!))) canonical = canonical.split(nonce).join('{nonce}');
  return canonical.replace(PYTHON_ADDRESS, 'at 0x{address}');
}

function requestKey(method: string, endpoint: string, normalisedBody: string): string {
  return createHash('sha256').update(`${method.toUpperCase()} ${endpoint}\n${normalisedBody}`).digest('hex');
}

interface SentRequest {
  readonly method: string;
  readonly endpoint: string;
  readonly body: string;
  readonly key: string;
}

/** The endpoint relative to the API root (`chat/completions`), so a transcript replays whatever OPENAI_BASE_URL says. */
function endpointOf(url: string, baseURL: string | undefined): string {
  const base = baseURL?.replace(/\/+$/, '');
  if (base && url.startsWith(`${base}/`)) return url.slice(base.length + 1).replace(/[?#].*$/, '');
  return new URL(url).pathname.replace(/^\/+/, '').replace(/^v1\//, '');
}

async function readRequest(input: string | URL | Request, init: RequestInit | undefined, baseURL: string | undefined): Promise<{ request: Request; sent: SentRequest }> {
  const request = new Request(input, init);
  const method = request.method.toUpperCase();
  const endpoint = endpointOf(request.url, baseURL);
  const body = normaliseBody(await request.clone().text());
  return { request, sent: { method, endpoint, body, key: requestKey(method, endpoint, body) } };
}

export interface Recorder {
  /** The SDK's fetch: sends each request on, and appends the exchange to the file. */
  readonly fetch: typeof fetch;
  /** Resolves once every exchange started so far is on disk. */
  flush(): Promise<void>;
}

/**
 * Record mode: every exchange that gets an HTTP answer (errors too, so retries replay the same way) is
 * appended to `path` as one line. Network failures are not recorded: they have no answer to give back.
 */
export function recordTranscript(path: string, options: { baseURL?: string; fetch?: typeof fetch } = {}): Recorder {
  const send = options.fetch ?? globalThis.fetch;
  let writes: Promise<void> = Promise.resolve();
  return {
    fetch: async (input, init) => {
      const { request, sent } = await readRequest(input, init, options.baseURL);
      const response = await send(request);
      const text = await response.text();
      const entry: TranscriptEntry = {
        v: TRANSCRIPT_VERSION,
        key: sent.key,
        request: { method: sent.method, endpoint: sent.endpoint, body: parseOr(sent.body) },
        response: { status: response.status, headers: keptHeaders(response.headers), body: text },
      };
      // One append per line, in turn: concurrent exchanges never interleave their bytes.
      writes = writes.then(() => appendFile(path, `${JSON.stringify(entry)}\n`, { mode: 0o600 }));
      await writes;
      return new Response(text, { status: response.status, statusText: response.statusText, headers: response.headers });
    },
    flush: () => writes,
  };
}

/** Why a request found no answer, for the CLI's message. */
export interface ReplayMiss {
  readonly method: string;
  readonly endpoint: string;
  readonly message: string;
}

/**
 * Replay mode: each request is answered by the recorded exchange whose normalised request is the same,
 * in the order they were recorded (a request recorded twice, e.g. a retry after a 500, answers twice).
 * Nothing is sent anywhere. A request the transcript does not hold is answered with status 422 and an
 * explanation (which the client reports as a request it cannot retry), and listed in `misses`.
 */
export class TranscriptReplay {
  readonly misses: ReplayMiss[] = [];
  private readonly queues = new Map<string, TranscriptEntry[]>();
  private readonly lines = new Map<TranscriptEntry, number>();

  constructor(
    private readonly entries: readonly TranscriptEntry[],
    private readonly source: string,
    /** sha256 of the transcript file: what a cache of results answered from it is keyed by. */
    readonly sha256: string,
    private readonly baseURL?: string,
  ) {
    entries.forEach((entry, index) => {
      this.lines.set(entry, index + 1);
      const queue = this.queues.get(entry.key) ?? [];
      queue.push(entry);
      this.queues.set(entry.key, queue);
    });
  }

  /** Exchanges not answered yet. */
  get remaining(): number {
    let left = 0;
    for (const queue of this.queues.values()) left += queue.length;
    return left;
  }

  get size(): number {
    return this.entries.length;
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const { sent } = await readRequest(input, init, this.baseURL);
    const entry = this.queues.get(sent.key)?.shift();
    if (entry) return new Response(entry.response.body, { status: entry.response.status, headers: entry.response.headers });
    const message = this.explainMiss(sent);
    this.misses.push({ method: sent.method, endpoint: sent.endpoint, message });
    return new Response(JSON.stringify({ error: { message, type: 'transcript_miss' } }), { status: REPLAY_MISS_STATUS, headers: { 'content-type': 'application/json' } });
  };

  /** The first miss as an error a user can act on, or null when every request was answered. */
  missError(): TranscriptMissError | null {
    const miss = this.misses[0];
    return miss ? new TranscriptMissError(miss.message) : null;
  }

  private explainMiss(sent: SentRequest): string {
    const what = describeRequest(sent);
    const recorded = this.entries.filter((e) => e.request.method === sent.method && e.request.endpoint === sent.endpoint);
    const used = this.entries.filter((e) => e.key === sent.key).length;
    const head = `no exchange in ${this.source} answers this request (${what})`;
    const fix = 'Replay with the same data, model, attempts and prompts as the recording, or record the transcript again with --record.';
    if (used > 0) return `${head}: its ${used} recorded ${used === 1 ? 'answer was' : 'answers were'} already used. ${fix}`;
    if (recorded.length === 0) return `${head}: it holds no ${sent.method} ${sent.endpoint} request at all. ${fix}`;
    let nearest = recorded[0]!;
    let nearestText = stableStringify(nearest.request.body);
    let common = commonPrefix(sent.body, nearestText);
    for (const entry of recorded.slice(1)) {
      const text = stableStringify(entry.request.body);
      const length = commonPrefix(sent.body, text);
      if (length > common) [nearest, nearestText, common] = [entry, text, length];
    }
    return (
      `${head}. The nearest recorded request (line ${this.lines.get(nearest)}) first differs at character ${common + 1}: ` +
      `sent ${JSON.stringify(around(sent.body, common))}, recorded ${JSON.stringify(around(nearestText, common))}. ${fix}`
    );
  }
}

/** Reads a transcript; a line that is not an exchange is named with its number. */
export async function loadTranscript(path: string, baseURL?: string): Promise<TranscriptReplay> {
  let raw: Buffer;
  try {
    raw = await readFile(path);
  } catch (error) {
    throw new UsageError(`cannot read the transcript ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Record one first with --record ${path}.`);
  }
  const entries: TranscriptEntry[] = [];
  const lines = raw.toString('utf8').split('\n');
  lines.forEach((line, index) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      throw new UsageError(`${path} line ${index + 1} is not JSON${index === lines.length - 1 ? ' (the recording was cut off? remove that line)' : ''}; a transcript holds one exchange a line, as --record writes them.`);
    }
    const parsed = EntrySchema.safeParse(value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new UsageError(`${path} line ${index + 1} is not a transcript exchange (${issue?.path.join('.') || 'the line'}: ${issue?.message}).`);
    }
    entries.push(parsed.data);
  });
  return new TranscriptReplay(entries, path, createHash('sha256').update(raw).digest('hex'), baseURL);
}

function describeRequest(sent: SentRequest): string {
  let body: { model?: unknown; response_format?: { json_schema?: { name?: unknown } } } = {};
  try {
    body = JSON.parse(sent.body) as typeof body;
  } catch {
    // described by method and endpoint only
  }
  const model = typeof body.model === 'string' ? `, model ${JSON.stringify(body.model)}` : '';
  const name = body.response_format?.json_schema?.name;
  return `${sent.method} ${sent.endpoint}${model}${typeof name === 'string' ? `, answer ${name}` : ''}`;
}

function keptHeaders(headers: Headers): Record<string, string> {
  const kept: Record<string, string> = {};
  for (const name of KEPT_HEADERS) {
    const value = headers.get(name);
    if (value !== null) kept[name] = value;
  }
  return kept;
}

function parseOr(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

function commonPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a.charCodeAt(i) === b.charCodeAt(i)) i += 1;
  return i;
}

function around(text: string, at: number): string {
  const start = Math.max(0, at - 30);
  return `${start > 0 ? '…' : ''}${text.slice(start, at + 50)}${at + 50 < text.length ? '…' : ''}`;
}
