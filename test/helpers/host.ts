import { readdir, readFile } from 'node:fs/promises';

/** Pids of live host processes whose command line contains `marker` (zombies excluded). */
export async function processesWith(marker: string): Promise<number[]> {
  const found: number[] = [];
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name));
  await Promise.all(
    pids.map(async (pid) => {
      const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
      if (!cmdline.includes(marker)) return;
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

/** Samples `probe` every `everyMs` until `until` settles; returns the largest value seen. */
export async function peakWhile<T>(until: Promise<T>, probe: () => Promise<number>, everyMs = 20): Promise<{ result: T; peak: number }> {
  let peak = 0;
  let done = false;
  const sampling = (async () => {
    while (!done) {
      peak = Math.max(peak, await probe());
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  try {
    const result = await until;
    return { result, peak };
  } finally {
    done = true;
    await sampling;
  }
}
