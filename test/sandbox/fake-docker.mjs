// A stand-in for the `docker` (or `podman`) client, for tests without an engine. It records every call
// (argv, its own environment and working directory) in calls.jsonl beside itself, keeps each "container"
// as a JSON file in containers/, and plays the part scenario.json gives it:
//   { "engine": "up" | "down", "images": ["code4py-sandbox"],
//     "run": { "stdout": "…", "stderr": "…", "stdoutBytes": 0, "exitCode": 0, "oomKilled": false,
//              "oomFile": false, "hang": false, "ignoreKill": false, "startDelayMs": 0,
//              "failToStart": false, "failExitCode": 125 } }
// A hanging run behaves like the real client: it leaves only when its container is killed (exit 137).
// "oomFile" plays podman 4 with conmon before 2.1.13: a memory kill leaves a file `oom` in the client's
// working directory and is not reported as OOMKilled.
import { appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const home = dirname(fileURLToPath(import.meta.url));
const scenario = JSON.parse(readFileSync(join(home, 'scenario.json'), 'utf8'));
const args = process.argv.slice(2);
appendFileSync(join(home, 'calls.jsonl'), JSON.stringify({ argv: args, env: process.env, pid: process.pid, cwd: process.cwd() }) + '\n');
mkdirSync(join(home, 'containers'), { recursive: true });

const containerFile = (name) => join(home, 'containers', `${name}.json`);
const readContainer = (name) => (existsSync(containerFile(name)) ? JSON.parse(readFileSync(containerFile(name), 'utf8')) : null);
const writeContainer = (name, state) => writeFileSync(containerFile(name), JSON.stringify(state));
const noSuchContainer = (name) => {
  process.stderr.write(`Error response from daemon: No such container: ${name}\n`);
  process.exit(1);
};
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function readStdin() {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks);
}

async function run() {
  const name = args[args.indexOf('--name') + 1];
  const plan = scenario.run ?? {};
  writeFileSync(join(home, `stdin-${name}.tar`), await readStdin());
  if (plan.failToStart) {
    // The engine made the container but could not start it: it is there, never started.
    writeContainer(name, { Status: 'created', OOMKilled: false, StartedAt: '0001-01-01T00:00:00Z', ExitCode: 0 });
    process.stderr.write('docker: Error response from daemon: failed to create task for container: OCI runtime create failed.\n');
    process.exit(plan.failExitCode ?? 125);
  }
  if (plan.startDelayMs) await sleep(plan.startDelayMs);
  appendFileSync(join(home, 'created.log'), `${name}\n`);
  writeContainer(name, { Status: 'running', OOMKilled: false, StartedAt: new Date().toISOString(), ExitCode: 0, client: process.pid });
  if (plan.hang) {
    for (;;) {
      if (!plan.ignoreKill && readContainer(name)?.Status === 'killed') process.exit(137);
      await sleep(10);
    }
  }
  if (plan.stdout) process.stdout.write(plan.stdout);
  if (plan.stderr) process.stderr.write(plan.stderr);
  if (plan.stdoutBytes) {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    for (let sent = 0; sent < plan.stdoutBytes; sent += chunk.length) {
      if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
    }
  }
  if (plan.oomFile) writeFileSync('oom', '');
  const exitCode = plan.exitCode ?? 0;
  writeContainer(name, { ...readContainer(name), Status: 'exited', OOMKilled: plan.oomKilled === true, ExitCode: exitCode });
  process.stdout.end(() => process.exit(exitCode));
}

switch (args[0]) {
  case 'version':
    if (scenario.engine !== 'up') {
      process.stderr.write('Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n');
      process.exit(1);
    }
    process.stdout.write('28.2.2\n');
    break;
  case 'image': {
    const image = args.at(-1);
    if (!(scenario.images ?? []).includes(image)) {
      process.stderr.write(`Error response from daemon: No such image: ${image}\n`);
      process.exit(1);
    }
    process.stdout.write('sha256:0000000000000000000000000000000000000000000000000000000000000000\n');
    break;
  }
  case 'run':
    await run();
    break;
  case 'kill': {
    const name = args.at(-1);
    const state = readContainer(name);
    if (!state) noSuchContainer(name);
    writeContainer(name, { ...state, Status: 'killed', ExitCode: 137 });
    process.stdout.write(`${name}\n`);
    break;
  }
  case 'inspect': {
    const state = readContainer(args.at(-1));
    if (!state) noSuchContainer(args.at(-1));
    process.stdout.write(JSON.stringify(state) + '\n');
    break;
  }
  case 'rm': {
    const name = args.at(-1);
    if (!readContainer(name)) noSuchContainer(name);
    rmSync(containerFile(name));
    process.stdout.write(`${name}\n`);
    break;
  }
  case 'ps': {
    const filter = args[args.indexOf('--filter') + 1] ?? '';
    const name = /^name=\^(.+)\$$/.exec(filter)?.[1];
    if (name && readContainer(name)) process.stdout.write('0123456789ab\n');
    break;
  }
  default:
    process.stderr.write(`fake docker: unknown command ${args[0]}\n`);
    process.exit(2);
}
