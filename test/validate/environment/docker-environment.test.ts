import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { beforeAll, describe, expect } from 'vitest';
import { ValidationConfigSchema } from '../../../src/config/schema.js';
import { getSandbox, type ReadySandbox } from '../../../src/sandbox/select.js';
import { readEnvironmentSettings } from '../../../src/validate/environment/env.js';
import { prepareEnvironment } from '../../../src/validate/environment/prepare.js';
import { runTests } from '../../../src/validate/stages/tests.js';
import { writeWorkspace } from '../../../src/validate/workspace.js';
import { findDockerEngine } from '../../helpers/docker-engine.js';
import { processesWith, sampleWhile } from '../../helpers/host.js';
import { buildWheels, servePackageIndex } from '../../helpers/package-index.js';
import { usePackageIndex } from '../../helpers/use-package-index.js';
import { watchedSandbox } from '../../helpers/validation-ports.js';

/**
 * The environment stage on the docker backend, against a real engine (podman in CI): the install run
 * reaches the loopback index through the proxy's unix socket mounted into a `--network none` container,
 * and the test run, in another container, imports what was installed and reaches nothing.
 */

const engine = await findDockerEngine();
const live = (name: string, fn: () => Promise<void>): void => engine.live(name, fn, 240_000);

const GREET = { name: 'greet', version: '1.2.0', files: { 'greet/__init__.py': 'def hello(name):\n    return f"hello {name}"\n' } };
const packages = usePackageIndex([GREET]);
let docker: ReadySandbox;

beforeAll(async () => {
  if (!engine.skip) docker = await getSandbox('docker');
}, 240_000);

describe('the environment stage on the docker backend (live)', () => {
  live('installs a declared requirement from the index, and the tests import it with no network', async () => {
    const ws = await writeWorkspace(
      Object.entries({
        'requirements.txt': 'greet>=1\n',
        'app.py': 'from greet import hello\n\n\ndef welcome(name):\n    return hello(name).title()\n',
        'test_app.py': 'from app import welcome\n\n\ndef test_welcome():\n    assert welcome("ann") == "Hello Ann"\n',
      }).map(([path, text]) => ({ path, content: Buffer.from(text) })),
    );
    try {
      const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: packages.index.url, CODE4PY_ENV_CACHE_DIR: packages.cacheDir });
      const env = await prepareEnvironment({ root: ws.root, files: ws.files, config: ValidationConfigSchema.parse({}) }, { sandbox: docker, settings });
      try {
        expect(env.stage, JSON.stringify(env.stage, null, 1)).toMatchObject({ name: 'environment', status: 'passed' });
        const installRequests = packages.index.requests.length;
        expect(packages.index.requests).toContain('GET /simple/greet/');
        const run = await runTests(docker.sandbox, ws.root, [], 120, undefined, { runtime: env.runtime });
        expect(run.tests).toMatchObject({ status: 'passed', summary: '1 passed, 0 failed' });
        // The test run reached nothing: the index saw no request after the install.
        expect(packages.index.requests).toHaveLength(installRequests);
      } finally {
        await env.dispose();
      }
    } finally {
      await ws.dispose();
    }
  });

  live("hands the index's credentials to the run's user (not root's) when the index asks for Basic auth", async () => {
    const secret = 'docker-index-token';
    const privateIndex = await servePackageIndex(await buildWheels([GREET]), { user: 'bot', password: secret });
    const ws = await writeWorkspace(
      Object.entries({
        'requirements.txt': 'greet\n',
        'test_app.py': 'from greet import hello\n\n\ndef test_hello():\n    assert hello("bo") == "hello bo"\n',
      }).map(([path, text]) => ({ path, content: Buffer.from(text) })),
    );
    try {
      const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: privateIndex.url.replace('http://', `http://bot:${secret}@`), CODE4PY_ENV_CACHE_DIR: packages.cacheDir });
      // What the host sees: the netrc the install run gets, as a file on the host, and every process's command line.
      const netrcs: Array<{ uid: number; mode: number }> = [];
      const watched = watchedSandbox(docker, async (request, run) => {
        const secretFolder = request.mounts?.find((m) => m.sandbox === '/code4py/secret');
        if (secretFolder) {
          const info = await stat(join(secretFolder.host, 'netrc'));
          netrcs.push({ uid: info.uid, mode: info.mode & 0o777 });
        }
        return run(request);
      });
      const onCommandLines: number[] = [];
      const preparing = prepareEnvironment({ root: ws.root, files: ws.files, config: ValidationConfigSchema.parse({}) }, { sandbox: watched, settings });
      const env = await sampleWhile(preparing, async () => void onCommandLines.push(...(await processesWith(secret))));
      try {
        expect(env.stage, JSON.stringify(env.stage, null, 1)).toMatchObject({ name: 'environment', status: 'passed' });
        // The netrc was the run's user's alone (as root the engine runs that user as its own uid on the host).
        expect(netrcs).toEqual([{ uid: docker.sandbox.runAs?.uid ?? process.getuid!(), mode: 0o600 }]);
        expect(onCommandLines).toEqual([]);
        // pip asked without credentials first, then with them, and got the files.
        expect(privateIndex.requests).toContain('GET /simple/greet/');
        expect(privateIndex.requests.some((r) => r.startsWith('GET /files/greet-1.2.0'))).toBe(true);
        expect(JSON.stringify(env.stage)).not.toContain(secret);
        const run = await runTests(docker.sandbox, ws.root, [], 120, undefined, { runtime: env.runtime });
        expect(run.tests).toMatchObject({ status: 'passed', summary: '1 passed, 0 failed' });
      } finally {
        await env.dispose();
      }
    } finally {
      await ws.dispose();
      await privateIndex.close();
    }
  });
});
