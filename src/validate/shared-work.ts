/** What a caller of `SharedWork.run` gets: the value, and whether another caller's work produced it. */
export interface Shared<T> {
  readonly value: T;
  readonly joined: boolean;
}

/**
 * Work done once for concurrent callers with the same key (in this process), each with its own cancel
 * signal. The work runs under the signal of the caller that started it; a caller that joined it and is
 * still live never takes a result cut short by that signal: once the work settles with its starter
 * cancelled, the caller starts it again (or joins whoever did first).
 */
export class SharedWork<T> {
  private readonly running = new Map<string, { readonly work: Promise<T>; readonly signal: AbortSignal | undefined }>();

  async run(key: string, signal: AbortSignal | undefined, compute: () => Promise<T>): Promise<Shared<T>> {
    for (;;) {
      const shared = this.running.get(key);
      if (!shared) break;
      const settled = await shared.work.then(
        (value) => ({ ok: true as const, value }),
        (error: unknown) => ({ ok: false as const, error }),
      );
      if (this.running.get(key) === shared) this.running.delete(key);
      if (shared.signal?.aborted === true && signal?.aborted !== true) continue;
      if (!settled.ok) throw settled.error;
      return { value: settled.value, joined: true };
    }
    const work = compute();
    const entry = { work, signal };
    this.running.set(key, entry);
    try {
      return { value: await work, joined: false };
    } finally {
      if (this.running.get(key) === entry) this.running.delete(key);
    }
  }
}
