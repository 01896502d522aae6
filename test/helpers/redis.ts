import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../../bench/intake-tools.js';

export { freePort };

/** A real redis-server (Debian's package) on a free loopback port, without persistence, for one test file. */
export class RedisServer {
  private process_: ChildProcess | undefined;
  private dir = '';
  port = 0;

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    this.port = await freePort();
    this.dir = await mkdtemp(join(tmpdir(), 'code4py-redis-'));
    const child = spawn('redis-server', ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.process_ = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      const onData = (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/i.test(out)) resolve();
      };
      child.stdout!.on('data', onData);
      child.once('error', (error) => reject(new Error(`cannot start redis-server (${error.message}): install Debian's redis-server package (.ci/run does)`)));
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code}: ${out}`)));
    });
    return this;
  }

  async stop(): Promise<void> {
    const child = this.process_;
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGKILL');
      await exited;
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

