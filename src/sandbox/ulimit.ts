import type { RunLimits } from './types.js';

/**
 * The shell's `ulimit` commands for the per-process limits every backend lowers before the run starts:
 * no core dumps, CPU seconds, the largest file (the shell counts 512-byte blocks) and open files.
 */
export function ulimitCommands(limits: RunLimits): string[] {
  return [
    'ulimit -c 0',
    `ulimit -t ${Math.max(1, Math.ceil(limits.cpuSeconds))}`,
    `ulimit -f ${Math.max(1, Math.floor(limits.fileSizeBytes / 512))}`,
    `ulimit -n ${limits.openFiles}`,
  ];
}
