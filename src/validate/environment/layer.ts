import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { cacheKey, type EnvironmentCache } from './cache.js';
import type { ProjectDeclaration } from './declarations.js';
import { isFailure, runDriver, SANDBOX_PATHS } from './install-run.js';
import { pipFailureText, type PipContext } from './pip-context.js';

/** The project as installed in its layer: its metadata and the requirements its build backend declares. */
export const LayerDataSchema = z.object({
  name: z.string(),
  version: z.string(),
  requiresPython: z.string().nullable(),
  /** Requirements from the backend's metadata, for the extras asked for, markers already evaluated. */
  requires: z.array(z.string()),
});
export type LayerData = z.infer<typeof LayerDataSchema>;

const LayerAnswerSchema = z.object({
  ok: z.literal(true),
  name: z.string().nullable(),
  version: z.string().nullable(),
  requiresPython: z.string().nullable(),
  requires: z.array(z.string()),
});

export interface Layer {
  /** Host folder mounted read-only at /code4py/layer in the test run. */
  readonly content: string;
  readonly data: LayerData;
  readonly cached: boolean;
  /** Set when the build backend could not install the project: the layer then has minimal metadata only. */
  readonly fallback: { readonly reason: string; readonly details: string } | null;
  /** Ends this run's use of the layer (removes it, when it is not the cache's). */
  release(): Promise<void>;
}

/**
 * The project installed editable into a layer of its own: the dist-info and the .pth/finder files the build
 * backend makes, which depend only on the project's metadata files, its top-level layout and the fixed
 * /work path, so they are cached by those. When the backend cannot be had (or fails), the working tree is
 * made importable with minimal metadata (name and version) instead, and the layer says why.
 */
export async function obtainLayer(root: string, project: ProjectDeclaration, extras: readonly string[], pip: PipContext, cache: EnvironmentCache): Promise<Layer> {
  const key = cacheKey({ layer: 1, python: pip.interpreterKey, indexes: pip.indexUrls, onlyBinary: pip.onlyBinary, extras: [...extras].sort(), files: project.metadataFiles, layout: project.layout });
  const obtained = await cache.obtain('layers', key, LayerDataSchema, async (content) => {
    const copy = await mkdtemp(join(tmpdir(), 'code4py-project-'));
    try {
      // The build writes into the project (egg-info, build/): it gets a copy, seen at /work all the same.
      await cp(root, copy, { recursive: true, verbatimSymlinks: true });
      const { answer } = await runDriver(LayerAnswerSchema, {
        sandbox: pip.sandbox,
        python: pip.interpreter.path,
        spec: { mode: 'layer', target: SANDBOX_PATHS.layerOut, extras, ...pip.spec },
        workDir: copy,
        mounts: [...pip.mounts, { host: content, sandbox: SANDBOX_PATHS.layerOut, writable: true }],
        network: pip.settings,
        timeoutMs: pip.timeoutMs,
        signal: pip.signal,
      });
      if (isFailure(answer)) return { ok: false as const, failure: answer };
      await rm(join(content, '__pycache__'), { recursive: true, force: true });
      const data: LayerData = {
        name: answer.name ?? project.name ?? 'project',
        version: answer.version ?? project.version ?? '0+unknown',
        requiresPython: answer.requiresPython ?? project.requiresPython,
        requires: answer.requires,
      };
      return { ok: true as const, data };
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  }, pip.signal);
  if (obtained.entry) {
    const release = cache.lease('layers', key);
    return { content: obtained.entry.content, data: obtained.entry.data, cached: !obtained.built, fallback: null, release: async () => release() };
  }
  // Not cached: the next run tries the backend again (the index may have been down).
  const content = await mkdtemp(join(tmpdir(), 'code4py-layer-'));
  const data = await writeMinimalLayer(content, project);
  return {
    content,
    data,
    cached: false,
    fallback: { reason: pipFailureText(obtained.failure), details: obtained.failure.output },
    release: () => rm(content, { recursive: true, force: true }),
  };
}

/**
 * Minimal metadata for a project whose backend could not install it: a dist-info with its name and
 * version (so importlib.metadata finds it) and a .pth putting the working tree (and src/) on sys.path.
 */
async function writeMinimalLayer(dir: string, project: ProjectDeclaration): Promise<LayerData> {
  const name = project.name ?? 'project';
  const version = project.version ?? '0+unknown';
  const info = join(dir, `${name.replace(/[-_.]+/g, '_')}-${version.replace(/-/g, '_')}.dist-info`);
  await mkdir(info, { recursive: true });
  const lines = ['Metadata-Version: 2.1', `Name: ${name}`, `Version: ${version}`];
  if (project.requiresPython) lines.push(`Requires-Python: ${project.requiresPython}`);
  await writeFile(join(info, 'METADATA'), `${lines.join('\n')}\n`);
  await writeFile(join(info, 'INSTALLER'), 'code4py\n');
  await writeFile(join(dir, 'code4py-project.pth'), project.srcLayout ? '/work/src\n/work\n' : '/work\n');
  return { name, version, requiresPython: project.requiresPython, requires: [] };
}
