import { access, constants, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { z } from 'zod';
import { SandboxUnavailableError } from '../errors.js';
import { BwrapSandbox } from './bwrap.js';
import { detectCgroups } from './cgroup.js';
import type { Sandbox } from './types.js';

export const SANDBOX_KINDS = ['auto', 'bwrap', 'docker'] as const;
export type SandboxKind = (typeof SANDBOX_KINDS)[number];

export const DEFAULT_PYTHON = '/usr/bin/python3';

/** What the sandbox's Python offers, read once by running it inside the sandbox. */
export const PythonInfoSchema = z.object({
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

const cache = new Map<string, Promise<ReadySandbox>>();

/**
 * The sandbox this host offers, probed once per process: `auto` takes the first backend that really runs
 * Python in isolation. When none does, it throws: code is never run unsandboxed.
 */
export function getSandbox(kind: SandboxKind = 'auto', python: string = DEFAULT_PYTHON): Promise<ReadySandbox> {
  const key = `${kind}\0${python}`;
  let ready = cache.get(key);
  if (!ready) {
    ready = open(kind, python);
    cache.set(key, ready);
    ready.catch(() => cache.delete(key));
  }
  return ready;
}

async function open(kind: SandboxKind, python: string): Promise<ReadySandbox> {
  if (!python.startsWith('/usr/')) {
    throw new SandboxUnavailableError(
      `The sandbox's Python must be a system interpreter under /usr (it was ${python}), because only system folders are mounted into the sandbox. Set CODE4PY_PYTHON to e.g. /usr/bin/python3.`,
    );
  }
  if (!(await isExecutable(python))) {
    throw new SandboxUnavailableError(`There is no Python at ${python}. Install it (Debian/Ubuntu: apt-get install python3 python3-pytest python3-coverage) or set CODE4PY_PYTHON to the interpreter to use.`);
  }
  if (kind === 'docker') {
    throw new SandboxUnavailableError(`The docker sandbox backend is not available in this version. Use CODE4PY_SANDBOX=bwrap. ${INSTALL_HINT}`);
  }
  const bwrapPath = await findExecutable('bwrap');
  if (!bwrapPath) throw new SandboxUnavailableError(`No sandbox backend works here: bubblewrap (bwrap) is not installed. ${INSTALL_HINT}`);
  const sandbox = new BwrapSandbox({ bwrapPath, python, cgroups: await detectCgroups() });
  return { sandbox, python: await probe(sandbox) };
}

async function probe(sandbox: Sandbox): Promise<PythonInfo> {
  const work = await mkdtemp(join(tmpdir(), 'code4py-probe-'));
  try {
    const result = await sandbox.run({ command: ['python', '-I', '-c', PROBE], workDir: work, limits: { wallTimeMs: 20_000 } });
    if (result.exitCode !== 0) {
      const said = (result.stderr || result.stdout).trim().split('\n').slice(-3).join(' ');
      throw new SandboxUnavailableError(`No sandbox backend works here: bubblewrap could not run ${sandbox.python} (${said || `exit ${result.exitCode ?? result.signal}`}). ${INSTALL_HINT}`);
    }
    return PythonInfoSchema.parse(JSON.parse(result.stdout));
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

async function findExecutable(name: string): Promise<string | null> {
  const dirs = (process.env.PATH ?? '').split(delimiter).concat(['/usr/bin', '/bin', '/usr/local/bin']);
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
