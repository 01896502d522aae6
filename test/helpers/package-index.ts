import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A small package to build a wheel of: its files (relative to the project's root) and its metadata. */
export interface FixturePackage {
  readonly name: string;
  readonly version: string;
  readonly files: Readonly<Record<string, string>>;
  readonly dependencies?: readonly string[];
}

/** Debian's wheels of setuptools and wheel (python3-setuptools-whl, python3-wheel-whl): a build backend the index can serve. */
export const BUILD_BACKEND_WHEELS = ['setuptools', 'wheel'];

/**
 * Wheels of the fixture packages, built with `python3 -m pip wheel` (setuptools, offline) once per set of
 * packages and kept in the temporary folder, so that every test file reuses them.
 */
export async function buildWheels(packages: readonly FixturePackage[]): Promise<string[]> {
  return buildOnce('wheels', '.whl', packages, async (work, dirs, built) => {
    await run('/usr/bin/python3', ['-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '--no-index', '--quiet', '--wheel-dir', built, ...dirs], {
      env: { PATH: '/usr/bin:/bin', HOME: work, PIP_CONFIG_FILE: '/dev/null', PYTHONDONTWRITEBYTECODE: '1' },
      cwd: work,
    });
  });
}

/** Source distributions of the fixture packages (setuptools' build_sdist), kept like the wheels. */
export async function buildSdists(packages: readonly FixturePackage[]): Promise<string[]> {
  return buildOnce('sdists', '.tar.gz', packages, async (work, dirs, built) => {
    await mkdir(built);
    for (const dir of dirs) {
      await run('/usr/bin/python3', ['-c', 'import sys\nfrom setuptools import build_meta\nbuild_meta.build_sdist(sys.argv[1])', built], { env: { PATH: '/usr/bin:/bin', HOME: work, PYTHONDONTWRITEBYTECODE: '1' }, cwd: dir });
    }
  });
}

/**
 * The files ending in `suffix` that `build` makes of `packages` (their project folders, written in `work`) in
 * the folder `built`, made once per set of packages and kept in tmpdir/code4py-fixture-<kind>/<hash>.
 */
async function buildOnce(
  kind: string,
  suffix: string,
  packages: readonly FixturePackage[],
  build: (work: string, dirs: string[], built: string) => Promise<void>,
): Promise<string[]> {
  const hash = createHash('sha256').update(JSON.stringify(packages)).digest('hex').slice(0, 16);
  const out = join(tmpdir(), `code4py-fixture-${kind}`, hash);
  const listed = async (): Promise<string[]> => (await readdir(out)).filter((n) => n.endsWith(suffix)).map((n) => join(out, n));
  if (await readdir(out).catch(() => null)) return listed();
  const work = await mkdtemp(join(tmpdir(), `code4py-${kind}-build-`));
  try {
    const dirs: string[] = [];
    for (const pkg of packages) {
      const dir = join(work, pkg.name);
      await writeTree(dir, { ...pkg.files, 'pyproject.toml': projectToml(pkg) });
      dirs.push(dir);
    }
    const built = join(work, kind);
    await build(work, dirs, built);
    // Published whole: a test file running at the same time sees all of them or none.
    await mkdir(dirname(out), { recursive: true });
    await rename(built, out).catch(async (error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    });
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  return listed();
}

function projectToml(pkg: FixturePackage): string {
  const dependencies = (pkg.dependencies ?? []).map((d) => JSON.stringify(d)).join(', ');
  return `[build-system]\nrequires = ["setuptools>=61"]\nbuild-backend = "setuptools.build_meta"\n\n[project]\nname = "${pkg.name}"\nversion = "${pkg.version}"\ndependencies = [${dependencies}]\n`;
}

/** Debian's own wheels of the named projects (setuptools, wheel, pip) from /usr/share/python-wheels. */
export async function debianWheels(names: readonly string[]): Promise<string[]> {
  const all = await readdir('/usr/share/python-wheels');
  return names.map((name) => {
    const found = all.find((file) => file.startsWith(`${name}-`) && file.endsWith('.whl'));
    if (!found) throw new Error(`/usr/share/python-wheels has no ${name} wheel: apt-get install python3-${name}-whl`);
    return join('/usr/share/python-wheels', found);
  });
}

export interface PackageIndexServer {
  /** The simple API's URL, e.g. http://127.0.0.1:PORT/simple/ */
  readonly url: string;
  readonly port: number;
  /** Every request the index received, in order, as `METHOD /path`. */
  readonly requests: string[];
  close(): Promise<void>;
}

/**
 * A PEP 503 index of `wheels` (and source distributions, `.tar.gz`) on 127.0.0.1, keeping its own access
 * log. With `auth`, it answers 401 to any request without those Basic credentials (logged as `401 …`).
 */
export async function servePackageIndex(wheels: readonly string[], auth?: { user: string; password: string }): Promise<PackageIndexServer> {
  const dir = await mkdtemp(join(tmpdir(), 'code4py-index-'));
  const byProject = new Map<string, { file: string; sha256: string }[]>();
  for (const wheel of wheels) {
    const file = basename(wheel);
    await copyFile(wheel, join(dir, file));
    const sha256 = createHash('sha256').update(await readFile(wheel)).digest('hex');
    const project = normalize(file.endsWith('.tar.gz') ? (/^(.+?)-\d/.exec(file)?.[1] ?? file) : file.split('-')[0]!);
    byProject.set(project, [...(byProject.get(project) ?? []), { file, sha256 }]);
  }
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!;
    if (auth && req.headers.authorization !== `Basic ${Buffer.from(`${auth.user}:${auth.password}`).toString('base64')}`) {
      requests.push(`401 ${req.method} ${path}`);
      res.writeHead(401, { 'www-authenticate': 'Basic realm="index"' }).end('credentials needed');
      return;
    }
    requests.push(`${req.method} ${path}`);
    const page = (body: string): void => {
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<!DOCTYPE html><html><body>\n${body}\n</body></html>\n`);
    };
    const simple = /^\/simple\/(?:([^/]+)\/)?$/.exec(path);
    if (simple && !simple[1]) return page([...byProject.keys()].map((p) => `<a href="/simple/${p}/">${p}</a>`).join('\n'));
    if (simple?.[1]) {
      const files = byProject.get(normalize(simple[1]));
      if (!files) return void res.writeHead(404).end('not found');
      return page(files.map((f) => `<a href="/files/${f.file}#sha256=${f.sha256}">${f.file}</a>`).join('\n'));
    }
    const file = /^\/files\/([^/]+\.(?:whl|tar\.gz))$/.exec(path)?.[1];
    if (file && [...byProject.values()].flat().some((f) => f.file === file)) {
      void readFile(join(dir, file)).then((body) => res.writeHead(200, { 'content-type': 'application/octet-stream' }).end(body));
      return;
    }
    res.writeHead(404).end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}/simple/`,
    port,
    requests,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

function normalize(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

async function writeTree(root: string, files: Readonly<Record<string, string>>): Promise<void> {
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), text);
  }
}
