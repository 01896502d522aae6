import type { Readable } from 'node:stream';

export const TRUNCATION_MARK = '\n[… output truncated by the sandbox: it passed the limit of {limit} bytes]\n';

/**
 * Keeps the first `limit` bytes of a stream and keeps reading (and dropping) the rest, so a process that
 * writes gigabytes neither blocks on a full pipe nor fills the host's memory.
 */
export class CappedCapture {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  truncated = false;

  constructor(
    stream: Readable,
    private readonly limit: number,
  ) {
    stream.on('data', (chunk: Buffer) => {
      const room = this.limit - this.kept;
      if (room <= 0) {
        this.truncated = true;
        return;
      }
      const slice = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (slice !== chunk) this.truncated = true;
      this.chunks.push(slice);
      this.kept += slice.length;
    });
  }

  text(): string {
    const text = Buffer.concat(this.chunks).toString('utf8');
    return this.truncated ? text + TRUNCATION_MARK.replace('{limit}', String(this.limit)) : text;
  }
}
