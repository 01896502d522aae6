// Bundles the `code4py` command (dist/src/cli.js, as tsc built it) into dist/cli/, with esbuild.
//
// Why: Node 20 loads ES modules one file at a time, with no compile cache. Unbundled, `code4py validate`
// loads ~300 files (zod alone ~80) before its first sandbox run starts; bundled, a few chunks, and the
// pure-JavaScript packages it needs come with them (docs/benchmarks.md has the figures). The commands
// still load lazily: each subcommand is its own chunk, loaded when it runs.
//
// What stays outside the bundle, loaded from node_modules as usual: packages with native code, WebAssembly
// or worker files found by path (Ruff, better-sqlite3, pino's transports, tar's), and those only the bot or
// `generate` use. Ruff's worker thread is a second entry point, so RuffHost finds it beside its chunk.
import { chmod, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outdir = join(root, 'dist', 'cli');

/** Pure JavaScript, on the way to a first sandbox run: worth a place in the bundle. */
const BUNDLED = new Set(['commander', 'zod', 'yaml', 'smol-toml', 'picomatch', 'fast-xml-parser', 'diff', '@renovatebot/pep440']);

const manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8'));
const dependencies = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.optionalDependencies ?? {})];
const unknown = [...BUNDLED].filter((name) => !dependencies.includes(name));
if (unknown.length > 0) throw new Error(`bundle-cli: ${unknown.join(', ')} is not a dependency in package.json: remove it from BUNDLED`);

await rm(outdir, { recursive: true, force: true });
await build({
  absWorkingDir: root,
  entryPoints: { code4py: 'dist/src/cli.js', 'ruff-worker': 'dist/src/validate/ruff/ruff-worker.js' },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20.18',
  external: dependencies.filter((name) => !BUNDLED.has(name)),
  // Bundled CommonJS packages (commander) require Node's own modules: give the ES module chunks a require.
  banner: { js: "import { createRequire as __code4pyRequire } from 'node:module'; const require = __code4pyRequire(import.meta.url);" },
  legalComments: 'eof',
  logLevel: 'warning',
});
await chmod(join(outdir, 'code4py.js'), 0o755);
