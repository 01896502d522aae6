import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ValidationConfigSchema } from '../../../src/config/schema.js';
import { findDockerClient, getSandbox, type ReadySandbox } from '../../../src/sandbox/select.js';
import { readEnvironmentSettings } from '../../../src/validate/environment/env.js';
import { prepareEnvironment } from '../../../src/validate/environment/prepare.js';
import { runTests } from '../../../src/validate/stages/tests.js';
import { writeWorkspace } from '../../../src/validate/workspace.js';
import { buildWheels, servePackageIndex, type PackageIndexServer } from '../../helpers/package-index.js';

/**
 * The environment stage on the docker backend, against a real engine (podman in CI): the install run
 * reaches the loopback index through the proxy's unix socket mounted into a `--network none` container,
 * and the test run, in another container, imports what was installed and reaches nothing.
 */

const REQUIRED = process.env.CODE4PY_REQUIRE_DOCKER === '1';
const engine = await findDockerClient().then(
  () => '',
  (error: unknown) => (error as Error).message,
);
const SKIP = engine !== '' && !REQUIRED;
const live = (name: string, fn: () => Promise<void>): void => it.skipIf(SKIP)(SKIP ? `${name} [skipped: ${engine}]` : name, fn, 240_000);

const GREET = { name: 'greet', version: '1.2.0', files: { 'greet/__init__.py': 'def hello(name):\n    return f"hello {name}"\n' } };
let index: PackageIndexServer;
let cache: string;
let docker: ReadySandbox;

beforeAll(async () => {
  if (SKIP) return;
  docker = await getSandbox('docker');
  index = await servePackageIndex(await buildWheels([GREET]));
  cache = await mkdtemp(join(tmpdir(), 'code4py-docker-envs-'));
}, 240_000);
afterAll(async () => {
  await index?.close();
  if (cache) await rm(cache, { recursive: true, force: true });
});

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
      const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: index.url, CODE4PY_ENV_CACHE_DIR: cache });
      const env = await prepareEnvironment({ root: ws.root, files: ws.files, config: ValidationConfigSchema.parse({}) }, { sandbox: docker, settings });
      try {
        expect(env.stage, JSON.stringify(env.stage, null, 1)).toMatchObject({ name: 'environment', status: 'passed' });
        const installRequests = index.requests.length;
        expect(index.requests).toContain('GET /simple/greet/');
        const run = await runTests(docker.sandbox, ws.root, [], 120, undefined, { runtime: env.runtime });
        expect(run.tests).toMatchObject({ status: 'passed', summary: '1 passed, 0 failed' });
        // The test run reached nothing: the index saw no request after the install.
        expect(index.requests).toHaveLength(installRequests);
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
      const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: privateIndex.url.replace('http://', `http://bot:${secret}@`), CODE4PY_ENV_CACHE_DIR: cache });
      const env = await prepareEnvironment({ root: ws.root, files: ws.files, config: ValidationConfigSchema.parse({}) }, { sandbox: docker, settings });
      try {
        expect(env.stage, JSON.stringify(env.stage, null, 1)).toMatchObject({ name: 'environment', status: 'passed' });
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
