import { mkdir, readdir, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { killUntilGone } from './kill.js';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Per-run cgroups for the pids and memory controllers. Root ignores RLIMIT_NPROC, and RLIMIT_AS is per
 * process, so only a cgroup bounds a whole run; where none is writable the sandbox falls back to rlimits.
 * Both cgroup v1 (one hierarchy per controller) and v2 (one unified hierarchy) are handled.
 */
export interface RunCgroup {
  /** `cgroup.procs` files to write the first process of the run into. */
  readonly procsFiles: readonly string[];
  /** Pids still in the run's cgroup. */
  pids(): Promise<number[]>;
  /** Whether the memory controller killed a process of the run. */
  outOfMemory(): Promise<boolean>;
  /** Kills every process in the cgroup and waits until it is empty, then removes it. */
  destroy(): Promise<void>;
}

export interface CgroupLimits {
  readonly memoryBytes: number;
  readonly processes: number;
}

interface Hierarchy {
  /** Folder under which run cgroups are made, e.g. /sys/fs/cgroup/pids/<own>/code4py. */
  readonly parent: string;
  readonly version: 1 | 2;
}

export interface CgroupFactory {
  create(runId: string, limits: CgroupLimits): Promise<RunCgroup>;
}

/** Finds writable pids and memory hierarchies; null when this host gives none (then rlimits apply). */
export async function detectCgroups(): Promise<CgroupFactory | null> {
  let own: string;
  let mounts: string;
  try {
    own = await readFile('/proc/self/cgroup', 'utf8');
    mounts = await readFile('/proc/self/mountinfo', 'utf8');
  } catch {
    return null;
  }
  const v1 = (controller: string): Hierarchy | null => {
    const line = own.split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller));
    const mount = mounts
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f.includes('cgroup') && f.at(-1)?.split(',').includes(controller));
    if (!line || !mount?.[4]) return null;
    return { parent: join(mount[4], line.split(':')[2] ?? '/', 'code4py'), version: 1 };
  };
  const v2 = (): Hierarchy | null => {
    const line = own.split('\n').find((l) => l.startsWith('0::'));
    const mount = mounts
      .split('\n')
      .map((l) => l.split(' '))
      .find((f) => f.includes('cgroup2'));
    if (!line || !mount?.[4]) return null;
    return { parent: join(mount[4], line.slice(3), 'code4py'), version: 2 };
  };

  const pids = v1('pids');
  const memory = v1('memory');
  const candidates: Hierarchy[][] = [];
  if (pids && memory) candidates.push([pids, memory]);
  const unified = v2();
  if (unified) candidates.push([unified]);
  for (const hierarchies of candidates) {
    if (await usable(hierarchies)) return new Factory(hierarchies);
  }
  return null;
}

async function usable(hierarchies: readonly Hierarchy[]): Promise<boolean> {
  try {
    for (const h of hierarchies) {
      await mkdir(h.parent, { recursive: true });
      const probe = join(h.parent, `probe-${process.pid}`);
      await mkdir(probe);
      try {
        if (h.version === 2) {
          // A v2 child only gets controllers its parent delegates.
          const controllers = (await readFile(join(probe, 'cgroup.controllers'), 'utf8')).split(/\s+/);
          if (!controllers.includes('pids') || !controllers.includes('memory')) {
            await writeFile(join(h.parent, 'cgroup.subtree_control'), '+pids +memory');
          }
          await writeFile(join(probe, 'pids.max'), '10');
        } else {
          await readFile(join(probe, 'cgroup.procs'), 'utf8');
        }
      } finally {
        await rmdir(probe);
      }
    }
    return true;
  } catch {
    return false;
  }
}

class Factory implements CgroupFactory {
  constructor(private readonly hierarchies: readonly Hierarchy[]) {}

  async create(runId: string, limits: CgroupLimits): Promise<RunCgroup> {
    const dirs: Array<{ dir: string; version: 1 | 2 }> = [];
    try {
      for (const h of this.hierarchies) {
        const dir = join(h.parent, runId);
        await mkdir(dir);
        dirs.push({ dir, version: h.version });
        await configure(dir, h.version, limits);
      }
    } catch (error) {
      await Promise.allSettled(dirs.map(({ dir }) => rmdir(dir)));
      throw error;
    }
    return new Cgroup(dirs);
  }
}

async function configure(dir: string, version: 1 | 2, limits: CgroupLimits): Promise<void> {
  const files = await readdirNames(dir);
  if (version === 2) {
    await writeFile(join(dir, 'pids.max'), String(limits.processes));
    await writeFile(join(dir, 'memory.max'), String(limits.memoryBytes));
    if (files.has('memory.swap.max')) await writeFile(join(dir, 'memory.swap.max'), '0');
    return;
  }
  if (files.has('pids.max')) await writeFile(join(dir, 'pids.max'), String(limits.processes));
  if (files.has('memory.limit_in_bytes')) {
    await writeFile(join(dir, 'memory.limit_in_bytes'), String(limits.memoryBytes));
    // Without this a run could spill past its limit into swap.
    if (files.has('memory.memsw.limit_in_bytes')) {
      await writeFile(join(dir, 'memory.memsw.limit_in_bytes'), String(limits.memoryBytes));
    }
  }
}

async function readdirNames(dir: string): Promise<Set<string>> {
  return new Set(await readdir(dir));
}

class Cgroup implements RunCgroup {
  readonly procsFiles: readonly string[];

  constructor(private readonly dirs: ReadonlyArray<{ dir: string; version: 1 | 2 }>) {
    this.procsFiles = dirs.map(({ dir }) => join(dir, 'cgroup.procs'));
  }

  async pids(): Promise<number[]> {
    const all = new Set<number>();
    for (const file of this.procsFiles) {
      const text = await readFile(file, 'utf8').catch(() => '');
      for (const line of text.split('\n')) if (line) all.add(Number(line));
    }
    return [...all];
  }

  async outOfMemory(): Promise<boolean> {
    for (const { dir, version } of this.dirs) {
      const file = join(dir, version === 2 ? 'memory.events' : 'memory.oom_control');
      const text = await readFile(file, 'utf8').catch(() => '');
      const kills = /^oom_kill (\d+)$/m.exec(text);
      if (kills && Number(kills[1]) > 0) return true;
    }
    return false;
  }

  async destroy(): Promise<void> {
    await killUntilGone(() => this.pids());
    for (const { dir } of this.dirs) {
      // An emptied cgroup can stay busy for a moment while the kernel reaps the last task.
      for (let attempt = 0; ; attempt++) {
        try {
          await rmdir(dir);
          break;
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code === 'ENOENT') break;
          if (attempt > 200) throw error;
          await sleep(5);
        }
      }
    }
  }
}
