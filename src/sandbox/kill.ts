import { setTimeout as sleep } from 'node:timers/promises';

/**
 * SIGKILLs the processes `list` names until it names none, then returns; throws if they outlive
 * `timeoutMs` (a process stuck in the kernel), so a run never returns with a process of it alive.
 */
export async function killUntilGone(list: () => Promise<number[]>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const pids = await list();
    if (pids.length === 0) return;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Gone meanwhile.
      }
    }
    if (Date.now() > deadline) throw new Error(`sandbox processes ${pids.join(', ')} would not die`);
    await sleep(5);
  }
}
