import picomatch from 'picomatch';
import { posix } from 'node:path';
import { parse as parseToml } from 'smol-toml';
import { z } from 'zod';
import type { Finding } from '../report.js';
import { isPythonFile, type SourceFile } from '../source.js';
import { normalizeName } from '../stages/import-names.js';
import { parseRequirementsTxt, requirementName } from '../stages/requirements.js';
import type { EnvironmentConfig } from './config.js';

/** One requirement to install, with where it is declared (for findings and repair feedback). */
export interface DeclaredRequirement {
  /** As pip reads it: `requests>=2; python_version >= "3.8"`. */
  readonly spec: string;
  /** PEP 503-normalised distribution name. */
  readonly name: string;
  readonly path: string;
  /** 1-based; 0 where the file keeps no positions (pyproject.toml, the build backend's metadata). */
  readonly line: number;
}

/** The project itself, when it can be installed (a pyproject.toml with [project] or [build-system], a setup.py or setup.cfg). */
export interface ProjectDeclaration {
  /** The file that makes it a project, for findings. */
  readonly path: string;
  /** Static name and version, when the files say them (the fallback metadata needs both). */
  readonly name: string | null;
  readonly version: string | null;
  readonly requiresPython: string | null;
  /** The files the build backend reads for the metadata, with their text (the layer's cache key). */
  readonly metadataFiles: ReadonlyArray<{ readonly path: string; readonly text: string }>;
  /** Top-level importable names (packages and modules at the root and under src/): the editable finder maps them. */
  readonly layout: readonly string[];
  readonly srcLayout: boolean;
}

export interface EnvironmentDeclarations {
  readonly requirements: readonly DeclaredRequirement[];
  readonly constraints: readonly DeclaredRequirement[];
  readonly project: ProjectDeclaration | null;
  /** Lines that are not installed (index options, local folders) and files that could not be read. */
  readonly notes: readonly Finding[];
}

const METADATA_FILES = ['pyproject.toml', 'setup.py', 'setup.cfg'];
const INDEX_OPTIONS = /^(-i|--index-url|--extra-index-url|-f|--find-links|--trusted-host|--no-index)\b/;

/** What the project declares for its environment, read from its files by `config`'s rules (pure). */
export function readDeclarations(files: readonly SourceFile[], config: EnvironmentConfig): EnvironmentDeclarations {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const notes: Finding[] = [];
  const requirements: DeclaredRequirement[] = [];
  const constraints: DeclaredRequirement[] = [];
  const note = (path: string, line: number, rule: string, message: string, severity: Finding['severity'] = 'warning'): void => {
    notes.push({ path, line, rule, message, severity });
  };

  const read = new Set<string>();
  const readTxt = (path: string, into: DeclaredRequirement[]): void => {
    if (read.has(path)) return;
    read.add(path);
    const text = byPath.get(path)?.text;
    if (text === null || text === undefined) {
      note(path, 0, 'unreadable-requirements', `${path} is not UTF-8 text; its requirements were not installed`);
      return;
    }
    const parsed = parseRequirementsTxt(path, text);
    for (const problem of parsed.problems) note(problem.path, problem.line, 'invalid-requirements', `${problem.message}; it was not installed`, 'error');
    const editable = new Set(parsed.editables.map((e) => e.line));
    for (const r of parsed.requirements) if (!editable.has(r.line)) into.push({ spec: r.spec, name: normalizeName(r.name), path, line: r.line });
    for (const e of parsed.editables) {
      const target = posix.normalize(posix.join(posix.dirname(path), e.target.replace(/^file:/, '')));
      if (target === '.' || target === '') note(path, e.line, 'project-requirement', `\`-e ${e.target}\` is the project itself: it is installed as such (environment.install_project)`, 'info');
      else note(path, e.line, 'local-requirement', `\`-e ${e.target}\` is not installed: only index requirements are (the environment is cached and shared); make the folder importable from the working tree instead`);
    }
    for (const option of parsed.options) {
      if (INDEX_OPTIONS.test(option.content)) note(path, option.line, 'index-option', `\`${option.content}\` is ignored: packages come only from the operator's index (CODE4PY_PIP_INDEX_URL)`);
      else note(path, option.line, 'pip-option', `\`${option.content}\` is ignored: options in requirements files are not passed to pip`, 'info');
    }
    const follow = (lines: readonly { path: string; line: number }[], target: DeclaredRequirement[], flag: string): void => {
      for (const include of lines) {
        const next = posix.normalize(posix.join(posix.dirname(path), include.path));
        if (byPath.has(next)) readTxt(next, target);
        else note(path, include.line, 'missing-requirements', `\`${flag} ${include.path}\` names a file that is not in the repository; it was not installed`, 'error');
      }
    };
    follow(parsed.includes, into, '-r');
    follow(parsed.constraints, constraints, '-c');
  };
  const isWanted = picomatch(config.requirements, { dot: false });
  for (const file of files) if (isWanted(file.path)) readTxt(file.path, requirements);

  const pyproject = byPath.get('pyproject.toml');
  const parsedProject = pyproject?.text ? readPyproject(pyproject.text, config.extras) : null;
  if (pyproject && pyproject.text === null) note('pyproject.toml', 0, 'unreadable-pyproject', 'pyproject.toml is not UTF-8 text; its dependencies were not installed');
  if (parsedProject?.error) note('pyproject.toml', 0, 'invalid-pyproject', `pyproject.toml could not be read (${parsedProject.error}); its dependencies were not installed`, 'error');
  const project = config.install_project ? projectDeclaration(files, byPath, parsedProject) : null;
  for (const spec of parsedProject?.requirements ?? []) {
    const name = requirementName(spec);
    if (!name) {
      note('pyproject.toml', 0, 'invalid-pyproject', `\`${spec}\` in pyproject.toml is not a PEP 508 requirement; it was not installed`, 'error');
      continue;
    }
    // `mypkg[test]` in the project's own extras names the project itself, whose extras are already read.
    if (parsedProject?.name && normalizeName(name) === normalizeName(parsedProject.name)) continue;
    requirements.push({ spec, name: normalizeName(name), path: 'pyproject.toml', line: 0 });
  }
  return { requirements: dedupe(requirements), constraints: dedupe(constraints), project, notes };
}

const Strings = z.array(z.string());
const PyprojectSchema = z.object({
  project: z
    .object({
      name: z.string().optional(),
      version: z.string().optional(),
      dynamic: Strings.optional(),
      'requires-python': z.string().optional(),
      dependencies: Strings.optional(),
      'optional-dependencies': z.record(z.string(), Strings).optional(),
    })
    .optional(),
  'build-system': z.object({}).passthrough().optional(),
  'dependency-groups': z.record(z.string(), z.array(z.union([z.string(), z.object({ 'include-group': z.string() })]))).optional(),
});

interface PyprojectFacts {
  readonly error: string | null;
  readonly isProject: boolean;
  readonly name: string | null;
  readonly version: string | null;
  readonly requiresPython: string | null;
  /** [project].dependencies, the wanted extras (self-references followed) and the wanted dependency groups. */
  readonly requirements: readonly string[];
}

/** PEP 621 and PEP 735 as far as the environment needs them: the static lists (the backend gives the dynamic ones). */
function readPyproject(text: string, extras: readonly string[]): PyprojectFacts {
  let parsed: z.infer<typeof PyprojectSchema>;
  try {
    const result = PyprojectSchema.safeParse(parseToml(text));
    if (!result.success) return { error: `${result.error.issues[0]?.path.join('.')}: ${result.error.issues[0]?.message}`, isProject: true, name: null, version: null, requiresPython: null, requirements: [] };
    parsed = result.data;
  } catch (error) {
    return { error: error instanceof Error ? error.message.split('\n')[0]! : String(error), isProject: true, name: null, version: null, requiresPython: null, requirements: [] };
  }
  const project = parsed.project;
  const name = project?.name ?? null;
  const wanted = new Set(extras.map(normalizeName));
  const optional = project?.['optional-dependencies'] ?? {};
  const specs: string[] = [...(project?.dependencies ?? [])];
  const seenExtras = new Set<string>();
  const addExtra = (extra: string): void => {
    const key = normalizeName(extra);
    if (seenExtras.has(key)) return;
    seenExtras.add(key);
    for (const [label, list] of Object.entries(optional)) {
      if (normalizeName(label) !== key) continue;
      for (const spec of list) {
        const self = name ? selfExtras(spec, name) : null;
        if (self) self.forEach(addExtra);
        else specs.push(spec);
      }
    }
  };
  for (const label of Object.keys(optional)) if (wanted.has(normalizeName(label))) addExtra(label);

  const groups = parsed['dependency-groups'] ?? {};
  const seenGroups = new Set<string>();
  const addGroup = (group: string): void => {
    const key = normalizeName(group);
    if (seenGroups.has(key)) return;
    seenGroups.add(key);
    for (const [label, list] of Object.entries(groups)) {
      if (normalizeName(label) !== key) continue;
      for (const item of list) {
        if (typeof item !== 'string') addGroup(item['include-group']);
        else specs.push(item);
      }
    }
  };
  for (const label of Object.keys(groups)) if (wanted.has(normalizeName(label))) addGroup(label);

  const dynamic = new Set(project?.dynamic ?? []);
  return {
    error: null,
    isProject: project !== undefined || parsed['build-system'] !== undefined,
    name,
    version: dynamic.has('version') ? null : (project?.version ?? null),
    requiresPython: project?.['requires-python'] ?? null,
    requirements: specs,
  };
}

/** The extras of `name[a,b]` when `spec` names the project itself; null otherwise. */
function selfExtras(spec: string, name: string): string[] | null {
  const match = /^\s*([A-Za-z0-9][A-Za-z0-9._-]*)\s*\[([^\]]*)\]/.exec(spec);
  if (!match?.[1] || normalizeName(match[1]) !== normalizeName(name)) return null;
  return (match[2] ?? '').split(',').map((s) => s.trim()).filter(Boolean);
}

function projectDeclaration(files: readonly SourceFile[], byPath: ReadonlyMap<string, SourceFile>, pyproject: PyprojectFacts | null): ProjectDeclaration | null {
  const setupPy = byPath.get('setup.py')?.text ?? null;
  const setupCfg = byPath.get('setup.cfg')?.text ?? null;
  const cfgMetadata = setupCfg !== null ? /^\[metadata\]/m.test(setupCfg) : false;
  if (!pyproject?.isProject && setupPy === null && !cfgMetadata) return null;
  const metadataFiles = METADATA_FILES.flatMap((path) => {
    const text = byPath.get(path)?.text;
    return text === null || text === undefined ? [] : [{ path, text }];
  });
  const fromCfg = (key: string): string | null => (setupCfg ? (new RegExp(`^${key}\\s*=\\s*([^\\s#]+)\\s*$`, 'm').exec(setupCfg.split(/^\[/m).find((s) => s.startsWith('metadata]')) ?? '')?.[1] ?? null) : null);
  const fromPy = (key: string): string | null => (setupPy ? (new RegExp(`\\b${key}\\s*=\\s*['"]([^'"]+)['"]`).exec(setupPy)?.[1] ?? null) : null);
  const layout = new Set<string>();
  let srcLayout = false;
  for (const file of files) {
    if (!isPythonFile(file.path)) continue;
    const parts = file.path.split('/');
    const start = parts[0] === 'src' && parts.length > 1 ? 1 : 0;
    if (start === 1) srcLayout = true;
    const top = parts[start]!;
    layout.add(parts.length - start === 1 ? top.replace(/\.py$/, '') : `${top}/`);
  }
  return {
    path: pyproject?.isProject ? 'pyproject.toml' : setupPy !== null ? 'setup.py' : 'setup.cfg',
    name: pyproject?.name ?? fromCfg('name') ?? fromPy('name'),
    version: pyproject?.version ?? (pyproject?.name ? null : (fromCfg('version') ?? fromPy('version'))),
    requiresPython: pyproject?.requiresPython ?? fromCfg('python_requires') ?? fromPy('python_requires'),
    metadataFiles,
    layout: [...layout].sort(),
    srcLayout,
  };
}

function dedupe(requirements: readonly DeclaredRequirement[]): DeclaredRequirement[] {
  const seen = new Map<string, DeclaredRequirement>();
  for (const r of requirements) {
    const key = r.spec.replace(/\s+/g, ' ').trim();
    if (!seen.has(key)) seen.set(key, { ...r, spec: key });
  }
  return [...seen.values()];
}
