import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';

/**
 * What the hostile-code tests of both sandbox backends share: a listener on the host that counts what
 * reaches it, and the hostile Python programs. test/sandbox/hostile.test.ts runs them under bubblewrap,
 * the live part of test/sandbox/docker.test.ts in containers; each judges by what the host sees.
 */

/** A TCP listener on every host address, counting the connections that reach it; open for the enclosing describe. */
export function useHostListener(): { readonly port: () => number; readonly connections: () => number } {
  let server: Server | undefined;
  let port = 0;
  let connections = 0;
  beforeAll(async () => {
    const listening = createServer((socket) => {
      connections++;
      socket.destroy();
    });
    server = listening;
    await new Promise<void>((resolve) => listening.listen(0, '0.0.0.0', resolve));
    port = (listening.address() as { port: number }).port;
  });
  afterAll(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  return { port: () => port, connections: () => connections };
}

/** Loopback, by address and by name, and every IPv4 address of the host, without repeats. */
export function hostAddresses(...more: string[]): string[] {
  const own = Object.values(networkInterfaces())
    .flat()
    .filter((address) => address?.family === 'IPv4')
    .map((address) => address!.address);
  return [...new Set(['127.0.0.1', 'localhost', ...more, ...own])];
}

/** Paths the sandboxed code tries to create outside its folders, as it names them and as the host finds them. */
export function escapeTargets(hostDir: string): { readonly inside: string[]; readonly onHost: string[] } {
  const name = `code4py-escape-${randomUUID()}`;
  return {
    inside: [`/tmp/${name}`, `${hostDir}/${name}`, `/usr/${name}`, `/${name}`, `/etc/${name}`],
    onHost: [join(tmpdir(), name), join(hostDir, name), `/usr/${name}`, `/${name}`, `/etc/${name}`],
  };
}

/** The hostile programs; `dir` and `file` arguments are paths inside the sandbox whose files the host reads afterwards. */
export const HOSTILE = {
  /** Tries to connect to `port` on each of `hosts`. */
  connect: (hosts: readonly string[], port: number): string => `
import socket
for host in ${JSON.stringify(hosts)}:
    try:
        socket.create_connection((host, ${port}), timeout=2).close()
        print("connected", host)
    except OSError as error:
        print("refused", host, error)
`,

  /** Collects its own environment and every environment and command line under /proc into `file`, and prints it. */
  lootEnvironment: (file: string): string => `
import os
loot = repr(dict(os.environ))
for pid in os.listdir("/proc"):
    if pid.isdigit():
        for name in ("environ", "cmdline"):
            try:
                loot += open(f"/proc/{pid}/{name}", "rb").read().decode("utf-8", "replace")
            except OSError:
                pass
open(${JSON.stringify(file)}, "w").write(loot)
print(loot)
`,

  /** Reads each of `targets` (a folder's listing, a file's text) into the JSON object `file`, or "denied: <error>". */
  readTargets: (targets: readonly string[], file: string): string => `
import os, json
seen = {}
for target in ${JSON.stringify(targets)}:
    try:
        if os.path.isdir(target):
            seen[target] = os.listdir(target)
        else:
            seen[target] = open(target).read()
    except OSError as error:
        seen[target] = "denied: " + type(error).__name__
open(${JSON.stringify(file)}, "w").write(json.dumps(seen))
`,

  /** Tries to create each of `targets`. */
  writeTargets: (targets: readonly string[]): string => `
for target in ${JSON.stringify(targets)}:
    try:
        open(target, "w").write("escaped")
    except OSError:
        pass
`,

  /** Leaves a grandchild in a session of its own that writes `dir`/daemon-was-alive.txt after 1.5 s. */
  daemon: (dir: string): string => `
import os, sys, time
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(1.5)
        open("${dir}/daemon-was-alive.txt", "w").write("still running")
        sys.exit(0)
    os._exit(0)
print("parent done")
`,

  /** Writes 2 GiB to stdout. */
  outputFlood: `
import sys
chunk = "x" * (1 << 20)
for _ in range(2048):
    sys.stdout.write(chunk)
`,

  /** Writes up to 1 GiB into `dir`/big.bin. */
  bigFile: (dir: string): string => `
with open("${dir}/big.bin", "wb") as f:
    for _ in range(1024):
        f.write(b"x" * (1 << 20))
`,

  /** Opens files in `filesDir` until refused, then writes how many it had open into `countFile`. */
  openFiles: (filesDir: string, countFile: string): string => `
handles = []
try:
    for i in range(10000):
        handles.append(open(f"${filesDir}/f{i}", "w"))
except OSError:
    pass
count = len(handles)
for handle in handles:
    handle.close()
open(${JSON.stringify(countFile)}, "w").write(str(count))
`,

  // 16 MiB every 20 ms: past any bound in well under a second, yet slow enough for the host's sampling of
  // /proc to see it grow on a loaded machine.
  memoryBomb: `
import time
blocks = []
while True:
    blocks.append(bytearray(16 << 20))
    time.sleep(0.02)
`,

  forkBomb: `
import os
while True:
    try:
        os.fork()
    except OSError:
        pass
`,

  /** Forks into 32 processes that sleep for a minute. */
  forkAndSleep: 'import os, time\nfor _ in range(5): os.fork()\ntime.sleep(60)',
} as const;
