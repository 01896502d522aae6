/** What every bench script measures with: medians, timings, and contenders run side by side in turn. */

export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile: p99 of 50 values is the largest, of 200 the 198th. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const started = performance.now();
  const value = await fn();
  return { ms: performance.now() - started, value };
}

/**
 * Runs each contender once per round, in turn (so a noisy moment of the machine hits them all), after one
 * warm-up run each, and returns each one's median in milliseconds.
 */
export async function sideBySide(contenders: Record<string, () => Promise<unknown>>, rounds: number): Promise<Record<string, number>> {
  const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
  for (const fn of Object.values(contenders)) await fn();
  for (let i = 0; i < rounds; i++) {
    for (const [name, fn] of Object.entries(contenders)) samples[name]!.push((await timed(fn)).ms);
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
}

/** `  label ........ 123.4 ms   1.23×` */
export function row(label: string, ms: number, base?: number): string {
  return `  ${label.padEnd(60)} ${ms.toFixed(1).padStart(9)} ms${base ? `   ${(ms / base).toFixed(2)}×` : ''}`;
}
