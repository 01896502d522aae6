import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { ReadySandbox } from '../../../src/sandbox/select.js';
import { runTests, type TestRun } from '../../../src/validate/stages/tests.js';
import { writeWorkspace, type Workspace } from '../../../src/validate/workspace.js';
import { processesWith, sampleWhile } from '../../helpers/host.js';

/** A workspace of `files` whose tests have run with per-test coverage contexts, as the mutation stage needs. */
export async function testedWorkspace(ready: ReadySandbox, files: Record<string, string>): Promise<{ ws: Workspace; run: TestRun }> {
  const ws = await writeWorkspace(Object.entries(files).map(([path, text]) => ({ path, content: Buffer.from(text) })));
  const run = await runTests(ready.sandbox, ws.root, [], 60, undefined, { contexts: true });
  if (run.tests.status !== 'passed') {
    await ws.dispose();
    throw new Error(`the fixture's tests must pass: ${run.tests.summary}`);
  }
  return { ws, run };
}

/** Every file under `root` with the sha256 of its content: what "unchanged on disk" is judged by. */
export async function fingerprint(root: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const visit = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await visit(path);
      else out[relative(root, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
    }
  };
  await visit(root);
  return out;
}

export interface SeenProcess {
  /** The mutant id from the process's name (`mutant 7`), or `baseline`. */
  readonly name: string;
  readonly pid: number;
  readonly firstSeen: number;
  lastSeen: number;
  /** The host folder of the process's pids cgroup (from /proc/PID/cgroup), when there is one. */
  readonly cgroup: string | null;
}

/**
 * Watches the host's /proc for the forked children of a mutation run: processes named `mutant …` whose
 * mounts include `workRoot` (so another run's children are not counted). Returns what it saw once `until`
 * settles.
 */
export async function watchMutantProcesses<T>(workRoot: string, until: Promise<T>, everyMs = 25): Promise<{ result: T; seen: Map<number, SeenProcess> }> {
  const seen = new Map<number, SeenProcess>();
  const result = await sampleWhile(
    until,
    async () => {
      const now = performance.now();
      for (const pid of await processesWith({ namePrefix: 'mutant ' })) {
        const known = seen.get(pid);
        if (known) {
          known.lastSeen = now;
          continue;
        }
        const mounts = await readFile(`/proc/${pid}/mountinfo`, 'utf8').catch(() => '');
        if (!mounts.includes(workRoot)) continue;
        const name = (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim().slice('mutant '.length);
        const cgroupLine = (await readFile(`/proc/${pid}/cgroup`, 'utf8').catch(() => '')).split('\n').find((l) => l.split(':')[1] === 'pids');
        const cgroup = cgroupLine ? join('/sys/fs/cgroup/pids', cgroupLine.split(':')[2] ?? '') : null;
        seen.set(pid, { name, pid, firstSeen: now, lastSeen: now, cgroup: cgroup && existsSync(join(cgroup, 'cgroup.procs')) ? cgroup : null });
      }
    },
    everyMs,
  );
  return { result, seen };
}
