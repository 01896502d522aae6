import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach } from 'vitest';
import { openSqliteTaskStore, type SqliteTaskStore, type SqliteTaskStoreOptions } from '../../src/queue/sqlite-store.js';
import type { TaskRequest } from '../../src/queue/types.js';

/** A clock the test moves by hand. */
export class ManualClock {
  constructor(private time = 1_700_000_000_000) {}
  now(): number {
    return this.time;
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

/** A fresh folder per test, and every store opened in it closed afterwards. */
export function useStoreFolder(): { readonly dir: string; readonly path: string; open(options?: Omit<SqliteTaskStoreOptions, 'path'>): SqliteTaskStore } {
  const state = { dir: '', stores: [] as SqliteTaskStore[] };
  beforeEach(() => {
    state.dir = mkdtempSync(join(tmpdir(), 'code4py-queue-'));
  });
  afterEach(() => {
    for (const store of state.stores.splice(0)) store.close();
    rmSync(state.dir, { recursive: true, force: true });
  });
  return {
    get dir() {
      return state.dir;
    },
    get path() {
      // A folder that does not exist yet: the store makes it.
      return join(state.dir, 'state', 'code4py.db');
    },
    open(options = {}) {
      const store = openSqliteTaskStore({ path: this.path, ...options });
      state.stores.push(store);
      return store;
    },
  };
}

let deliveries = 0;

export function request(overrides: Partial<TaskRequest> = {}): TaskRequest {
  return {
    kind: 'generate',
    installationId: 1,
    owner: 'octo-org',
    repo: 'calculator',
    issueNumber: 1,
    deliveryId: `delivery-${++deliveries}`,
    sender: { login: 'maintainer', id: 7 },
    payload: {},
    ...overrides,
  };
}

export interface Child {
  /** Resolves with the first line of standard output that matches. */
  line(match: RegExp): Promise<string>;
  send(text: string): void;
  kill(): void;
  /** Exit code and everything printed, once the process is gone (and reaped). */
  readonly exit: Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>;
}

const children = new Set<ChildProcess>();
// A test that fails before its kill must not leave a child writing to the store forever.
afterEach(() => {
  for (const proc of children) proc.kill('SIGKILL');
  children.clear();
});

/** A second Node process working on the same store file (test/queue/fixtures/queue-child.ts). */
export function child(...args: string[]): Child {
  const proc = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./fixtures/queue-child.ts', import.meta.url)), ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  const waiters: { match: RegExp; resolve: (line: string) => void }[] = [];
  const check = () => {
    for (const waiter of [...waiters]) {
      const hit = out.split('\n').slice(0, -1).find((l) => waiter.match.test(l));
      if (hit !== undefined) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve(hit);
      }
    }
  };
  proc.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    check();
  });
  proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
  children.add(proc);
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }>((resolve) =>
    proc.on('close', (code, signal) => {
      children.delete(proc);
      resolve({ code, signal, out, err });
    }),
  );
  return {
    line: (match) =>
      new Promise((resolve, reject) => {
        waiters.push({ match, resolve });
        check();
        void exit.then(({ code, err: stderr }) => reject(new Error(`child exited (${code}) before printing ${match}: ${stderr}`)));
      }),
    send: (text) => proc.stdin.write(text),
    kill: () => proc.kill('SIGKILL'),
    exit,
  };
}
