import { access, constants, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { z } from 'zod';
import { SandboxUnavailableError } from '../errors.js';
import { keptJson, parseJsonOrNull } from '../json.js';
import { BwrapSandbox } from './bwrap.js';
import { detectCgroups } from './cgroup.js';
import { DockerSandbox, dockerClientEnv, lastLine, readDockerImage, runDocker } from './docker.js';
import type { Sandbox } from './types.js';

export const SANDBOX_KINDS = ['auto', 'bwrap', 'docker'] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

export const DEFAULT_PYTHON = '/usr/bin/python3';

/** What the sandbox's Python offers, read once by running it inside the sandbox. */
const PythonInfoSchema = z.object({
  version: z.string(),
  stdlib: z.array(z.string()),
  pytest: z.string().nullable(),
  coverage: z.string().nullable(),
});
export type PythonInfo = z.infer<typeof PythonInfoSchema>;

export interface ReadySandbox {
  readonly sandbox: Sandbox;
  readonly python: PythonInfo;
}

const PROBE = `
import importlib.util, json, sys
def version(name):
    if importlib.util.find_spec(name) is None:
        return None
    from importlib.metadata import version as v
    try:
        return v(name)
    except Exception:
        return "unknown"
print(json.dumps({"version": sys.version.split()[0],
                  "stdlib": sorted(set(sys.stdlib_module_names) | set(sys.builtin_module_names)),
                  "pytest": version("pytest"), "coverage": version("coverage")}))
`;

const INSTALL_HINT =
  'Install bubblewrap and Python with pytest and coverage (Debian/Ubuntu: `apt-get install bubblewrap python3 python3-pytest python3-coverage`). ' +
  'Inside a container bubblewrap needs user namespaces: run the container with `--security-opt seccomp=unconfined --security-opt apparmor=unconfined` (or `--privileged`).';

const DOCKER_HINT = (image: string): string =>
  `For the docker backend, run a container engine on this machine (Debian/Ubuntu: \`apt-get install podman runc podman-docker\`, or Docker's own packages), ` +
  `then build the sandbox image: ${BUILD_HINT(image)}`;

const BUILD_HINT = (image: string): string =>
  `from Code4Py's checkout, as root, \`CODE4PY_DOCKER_IMAGE=${image} sandbox/build-image.sh\` (from Debian's archive, no registry needed), ` +
  `or \`docker build -t ${image} sandbox/\` where Docker Hub is reachable; or set CODE4PY_DOCKER_IMAGE to an image built either way.`;

export interface SandboxOptions {
  /** The docker backend's image; by default CODE4PY_DOCKER_IMAGE, else `code4py-sandbox`. */
  readonly dockerImage?: string;
  /** Folders searched for `bwrap` and `docker` (PATH syntax); by default PATH and the usual system folders. */
  readonly searchPath?: string;
  /**
   * A folder where what bubblewrap's Python offers is kept between processes (the CLI's cache), keyed by
   * the bwrap and Python binaries and the system's Python packages: a new process then skips the probe run.
   */
  readonly probeCache?: string;
}

const cache = new Map<string, Promise<ReadySandbox>>();

/**
 * The sandbox this host offers, probed once per process: `auto` takes the first backend that really runs
 * Python in isolation, bubblewrap first, then docker. When none does, it throws: code is never run unsandboxed.
 */
export function getSandbox(kind: SandboxKind = 'auto', python: string = DEFAULT_PYTHON, options: SandboxOptions = {}): Promise<ReadySandbox> {
  let image: string;
  try {
    image = options.dockerImage ?? readDockerImage(process.env);
  } catch (error) {
    return Promise.reject(error as Error);
  }
  const key = [kind, python, image, options.searchPath ?? '', options.probeCache ?? ''].join('\0');
  let ready = cache.get(key);
  if (!ready) {
    ready = open(kind, python, image, options.searchPath, options.probeCache);
    cache.set(key, ready);
    ready.catch(() => cache.delete(key));
  }
  return ready;
}

async function open(kind: SandboxKind, python: string, image: string, searchPath: string | undefined, probeCache: string | undefined): Promise<ReadySandbox> {
  const lead = 'No sandbox backend works here';
  if (kind === 'bwrap') return openBwrap(python, searchPath, probeCache).catch(explain(`${lead}: `));
  if (kind === 'docker') return openDocker(python, image, searchPath).catch(explain(`${lead}: `));
  try {
    return await openBwrap(python, searchPath, probeCache);
  } catch (bwrapError) {
    if (!(bwrapError instanceof SandboxUnavailableError)) throw bwrapError;
    try {
      return await openDocker(python, image, searchPath);
    } catch (dockerError) {
      if (!(dockerError instanceof SandboxUnavailableError)) throw dockerError;
      throw new SandboxUnavailableError(`${lead}: ${bwrapError.message} The docker backend cannot be used either: ${dockerError.message}`);
    }
  }
}

/** Puts `lead` before the message of a backend's SandboxUnavailableError. */
function explain(lead: string): (error: unknown) => never {
  return (error) => {
    if (error instanceof SandboxUnavailableError) throw new SandboxUnavailableError(lead + error.message);
    throw error;
  };
}

async function openBwrap(python: string, searchPath: string | undefined, probeCache?: string): Promise<ReadySandbox> {
  if (!python.startsWith('/usr/')) {
    throw new SandboxUnavailableError(
      `The sandbox's Python must be a system interpreter under /usr (it was ${python}), because only system folders are mounted into the sandbox. Set CODE4PY_PYTHON to e.g. /usr/bin/python3.`,
    );
  }
  if (!(await isExecutable(python))) {
    throw new SandboxUnavailableError(`There is no Python at ${python}. Install it (Debian/Ubuntu: apt-get install python3 python3-pytest python3-coverage) or set CODE4PY_PYTHON to the interpreter to use.`);
  }
  const bwrapPath = await findExecutable('bwrap', searchPath);
  if (!bwrapPath) throw new SandboxUnavailableError(`bubblewrap (bwrap) is not installed. ${INSTALL_HINT}`);
  const sandbox = new BwrapSandbox({ bwrapPath, python, cgroups: await detectCgroups() });
  const probed = () => probe(sandbox, (said) => `bubblewrap could not run ${python} (${said}). ${INSTALL_HINT}`);
  const info = probeCache ? await keptJson(probeCache, { probe: 1, files: await probeIdentity(bwrapPath, python) }, PythonInfoSchema, probed) : await probed();
  return { sandbox, python: info };
}

/**
 * What a kept probe's answer depends on: bwrap, the interpreter and the system's Python packages, as the
 * files they are (their identity and modification times). Any change makes the answer stale.
 */
async function probeIdentity(bwrapPath: string, python: string): Promise<unknown[]> {
  const real = await realpath(python).catch(() => python);
  return Promise.all(
    [bwrapPath, real, '/usr/lib/python3/dist-packages', dirname(real)].map(async (path) => {
      const info = await stat(path).catch(() => null);
      return info ? [path, info.ino, info.size, info.mtimeMs] : [path];
    }),
  );
}

async function openDocker(python: string, image: string, searchPath: string | undefined): Promise<ReadySandbox> {
  const client = await findDockerClient(searchPath).catch((error: unknown) => {
    if (error instanceof SandboxUnavailableError) throw new SandboxUnavailableError(`${error.message} ${DOCKER_HINT(image)}`);
    throw error;
  });
  const sandbox = new DockerSandbox({ dockerPath: client.path, image, python });
  const present = await sandbox.docker(['image', 'inspect', '--format', '{{.Id}}', image], 15_000);
  if (present.code !== 0) {
    throw new SandboxUnavailableError(`the ${client.name === 'docker' ? 'Docker' : 'podman'} engine has no image ${image}: build it ${BUILD_HINT(image)}`);
  }
  return { sandbox, python: await probe(sandbox, (said) => `the image ${image} could not run ${python} (${said}). ${DOCKER_HINT(image)}`) };
}

export interface DockerClient {
  readonly name: 'docker' | 'podman';
  readonly path: string;
  /** The engine's version, as it answered. */
  readonly version: string;
}

/**
 * The client of a container engine that answers: `docker`, else `podman` (which runs containers without a
 * daemon). Only `docker` is tried when DOCKER_HOST or DOCKER_CONTEXT names an engine for it. Throws a
 * SandboxUnavailableError saying what each client said when none answers. The clients see only their
 * own variables of `env` (see dockerClientEnv).
 */
export async function findDockerClient(searchPath?: string, env: NodeJS.ProcessEnv = process.env): Promise<DockerClient> {
  const names = env.DOCKER_HOST || env.DOCKER_CONTEXT ? (['docker'] as const) : (['docker', 'podman'] as const);
  const problems: string[] = [];
  for (const name of names) {
    const path = await findExecutable(name, searchPath);
    if (!path) continue;
    const version = await runDocker(path, ['version', '--format', '{{.Server.Version}}'], dockerClientEnv(env), 15_000);
    if (version.code === 0 && version.stdout.trim()) return { name, path, version: version.stdout.trim() };
    const said = lastLine(version.stderr) || `exit ${version.code ?? 'by a signal'}`;
    problems.push(name === 'docker' ? `the Docker engine does not answer \`docker version\` (${said})` : `podman cannot run containers (\`podman version\`: ${said})`);
  }
  if (problems.length === 0) throw new SandboxUnavailableError('neither the docker client nor podman is installed.');
  throw new SandboxUnavailableError(`${problems.join('; ')}. Start the engine, or point DOCKER_HOST at one.`);
}

async function probe(sandbox: Sandbox, failure: (said: string) => string): Promise<PythonInfo> {
  const work = await mkdtemp(join(tmpdir(), 'code4py-probe-'));
  try {
    const result = await sandbox.run({ command: ['python', '-I', '-c', PROBE], workDir: work, limits: { wallTimeMs: 20_000 } });
    if (result.exitCode !== 0) {
      const said = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ');
      throw new SandboxUnavailableError(failure(said || `exit ${result.exitCode ?? result.signal}`));
    }
    const info = PythonInfoSchema.safeParse(parseJsonOrNull(result.stdout));
    if (!info.success) throw new SandboxUnavailableError(failure(`its answer could not be read: ${result.stdout.slice(0, 200)}`));
    return info.data;
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function findExecutable(name: string, searchPath: string | undefined): Promise<string | null> {
  const dirs = searchPath !== undefined ? searchPath.split(delimiter) : (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/bin', '/usr/local/bin']);
  for (const dir of dirs) {
    if (dir && (await isExecutable(join(dir, name)))) return join(dir, name);
  }
  return null;
}

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
