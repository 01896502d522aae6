import { readdir, readFile } from 'node:fs/promises';

/** Which host processes: those whose command line contains a marker (a string), or whose name (comm) starts with `namePrefix`. */
export type ProcessMatch = string | { readonly namePrefix: string };

/** Pids of live host processes that `match` (zombies excluded). */
export async function processesWith(match: ProcessMatch): Promise<number[]> {
  const [file, matches]: [string, (text: string) => boolean] =
    typeof match === 'string' ? ['cmdline', (text) => text.includes(match)] : ['comm', (text) => text.startsWith(match.namePrefix)];
  const found: number[] = [];
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const text = await readFile(`/proc/${pid}/${file}`, 'utf8').catch(() => '');
      if (!matches(text)) return;
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
      const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
      if (state && state !== 'Z') found.push(Number(pid));
    }),
  );
  return found;
}

/** Resident memory, in bytes, of the host processes whose command line contains `marker`. */
export async function residentBytesOf(marker: string): Promise<number> {
  let total = 0;
  for (const pid of await processesWith(marker)) {
    const status = await readFile(`/proc/${pid}/status`, 'utf8').catch(() => '');
    const kb = /^VmRSS:\s+(\d+) kB/m.exec(status)?.[1];
    if (kb) total += Number(kb) * 1024;
  }
  return total;
}

/** Calls `sample` every `everyMs` until `until` settles; returns `until`'s result once the last sample is done. */
export async function sampleWhile<T>(until: Promise<T>, sample: () => Promise<void>, everyMs = 20): Promise<T> {
  let done = false;
  const sampling = (async () => {
    while (!done) {
      await sample();
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    return await until;
  } finally {
    done = true;
    await sampling;
  }
}

/** Samples `probe` every `everyMs` until `until` settles; returns the largest value seen. */
export async function peakWhile<T>(until: Promise<T>, probe: () => Promise<number>, everyMs = 20): Promise<{ result: T; peak: number }> {
  let peak = 0;
  const result = await sampleWhile(until, async () => {
    peak = Math.max(peak, await probe());
  }, everyMs);
  return { result, peak };
}
