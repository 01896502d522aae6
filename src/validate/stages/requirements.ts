import { posix } from 'node:path';
import { parse as parseToml, TomlError } from 'smol-toml';
import { z } from 'zod';
import type { SourceFile } from '../source.js';
import { normalizeName } from './import-names.js';

/** A distribution the project declares it needs. */
export interface Requirement {
  /** As written (`PyYAML`); compare with `normalizeName`. */
  readonly name: string;
  /** The file that declares it. */
  readonly path: string;
  /** 1-based; 0 in pyproject.toml, where the TOML parser keeps no positions. */
  readonly line: number;
  /** The whole requirement as pip reads it (`requests>=2; python_version < "4" --hash=sha256:…`). */
  readonly spec: string;
}

/** Something in a requirements file that could not be read: its requirements may be missing. */
export interface RequirementsProblem {
  readonly path: string;
  readonly line: number;
  readonly message: string;
}

export interface Declarations {
  readonly requirements: readonly Requirement[];
  readonly problems: readonly RequirementsProblem[];
  /** Files read, for the finding that says where to declare a dependency. */
  readonly requirementsFiles: readonly string[];
  readonly pyprojectFiles: readonly string[];
}

interface Parsed {
  readonly requirements: Requirement[];
  readonly problems: RequirementsProblem[];
}

// PEP 508: a name, optional [extras], then a version, a marker, `@ url`, or nothing.
const PEP508 = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)\s*(?:\[[^\]]*\])?\s*(.*)$/s;
const AFTER_NAME = /^(?:$|[<>=!~(;@])/;

/**
 * The distribution name of one requirement: PEP 508 (`name[extra]>=1; marker`, `name @ url`) or, as
 * pip also takes, a bare URL or archive. `undefined` when it names no distribution (a local folder);
 * null when it cannot be read.
 */
export function requirementName(spec: string): string | null | undefined {
  const text = spec.trim();
  if (/^(?:[a-z][a-z0-9+.-]*:\/\/|[a-z]+\+|file:|\.{0,2}\/)/i.test(text) || text === '.' || text === '..') return nameFromUrl(text);
  const match = PEP508.exec(text);
  if (!match?.[1] || !AFTER_NAME.test(match[2]?.trim() ?? '')) return null;
  return match[1];
}

function nameFromUrl(url: string): string | undefined {
  const egg = /[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(url);
  if (egg?.[1]) return egg[1];
  const last = url.replace(/[#?].*$/, '').replace(/\/+$/, '').split('/').pop() ?? '';
  // A wheel escapes `-` in its name, so the name is everything before the first `-`.
  const wheel = /^([^-]+)-.*\.whl$/.exec(last);
  if (wheel?.[1]) return wheel[1];
  const sdist = /^(.+?)-\d[^/]*\.(?:tar\.gz|tgz|zip|tar\.bz2)$/.exec(last);
  if (sdist?.[1]) return sdist[1];
  // A VCS URL such as git+https://github.com/psf/requests.git@v2.0 usually names its distribution.
  const vcs = /^[a-z]+\+.*\/([A-Za-z0-9._-]+?)(?:\.git)?(?:@[^/]*)?$/i.exec(url.replace(/[#?].*$/, ''));
  return vcs?.[1];
}

const INCLUDE = /^(?:-r|--requirement)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)/;
const CONSTRAINT = /^(?:-c|--constraint)(?:\s*=\s*|\s+|(?=[^\s-]))(\S+)/;
const EDITABLE = /^(?:-e|--editable)(?:\s*=\s*|\s+)(\S+)/;

/** A line of a requirements file, by where it is. */
export interface FileLine {
  readonly path: string;
  readonly line: number;
}

export interface ParsedRequirementsTxt extends Parsed {
  /** `-r FILE` lines: FILE as written, relative to the including file. */
  readonly includes: FileLine[];
  /** `-c FILE` lines: FILE as written. */
  readonly constraints: FileLine[];
  /** Editable (`-e`) requirements: the project itself or a local folder, never an index requirement. */
  readonly editables: Array<FileLine & { readonly target: string }>;
  /** Every other option line (`--index-url …`, `--pre`, `-f …`), as written. */
  readonly options: Array<FileLine & { readonly content: string }>;
}

/** pip's requirements file format: comments, `\` continuations, options, `-r`/`-c`/`-e` lines. */
export function parseRequirementsTxt(path: string, text: string): ParsedRequirementsTxt {
  const result: ParsedRequirementsTxt = { requirements: [], problems: [], includes: [], constraints: [], editables: [], options: [] };
  for (const { line, content } of logicalLines(text)) {
    const include = INCLUDE.exec(content);
    const constraint = CONSTRAINT.exec(content);
    const editable = EDITABLE.exec(content);
    if (include?.[1]) {
      result.includes.push({ path: include[1], line });
    } else if (constraint?.[1]) {
      result.constraints.push({ path: constraint[1], line });
    } else if (editable?.[1]) {
      result.editables.push({ path, line, target: editable[1] });
      const name = nameFromUrl(editable[1]);
      if (name) result.requirements.push({ name, path, line, spec: content });
    } else if (content.startsWith('-')) {
      // Index and install options (-i, --extra-index-url, --pre…) declare no distribution.
      result.options.push({ path, line, content });
    } else {
      // Per-requirement options such as --hash follow the requirement.
      const name = requirementName(content.replace(/\s+--?[a-z].*$/is, ''));
      if (name) result.requirements.push({ name, path, line, spec: content });
      else if (name === null) result.problems.push({ path, line, message: `\`${content}\` is not a requirement pip can read` });
    }
  }
  return result;
}

function logicalLines(text: string): { line: number; content: string }[] {
  const out: { line: number; content: string }[] = [];
  let pending = '';
  let start = 0;
  text.split(/\r?\n/).forEach((raw, index) => {
    if (pending === '') start = index + 1;
    if (raw.endsWith('\\')) {
      pending += raw.slice(0, -1);
      return;
    }
    // pip's rule: `#` starts a comment at the start of a line or after whitespace (not in `url#egg=`).
    const content = (pending + raw).replace(/(^|\s)#.*$/, '').trim();
    pending = '';
    if (content) out.push({ line: start, content });
  });
  return out;
}

const Strings = z.array(z.string());
const StringLists = z.record(z.string(), Strings);
const Group = z.array(z.union([z.string(), z.object({ 'include-group': z.string() })]));
const NameTable = z.record(z.string(), z.unknown());

/** Where pyproject.toml declares dependencies, and how each place lists them. */
const SECTIONS: { label: string; keys: string[]; names: (value: unknown) => string[] | null }[] = [
  { label: '[project].dependencies', keys: ['project', 'dependencies'], names: (v) => Strings.safeParse(v).data ?? null },
  { label: '[project.optional-dependencies]', keys: ['project', 'optional-dependencies'], names: (v) => flat(StringLists.safeParse(v).data) },
  { label: '[dependency-groups]', keys: ['dependency-groups'], names: (v) => flat(z.record(z.string(), Group).safeParse(v).data) },
  { label: '[tool.poetry.dependencies]', keys: ['tool', 'poetry', 'dependencies'], names: (v) => keysOf(v) },
  { label: '[tool.poetry.dev-dependencies]', keys: ['tool', 'poetry', 'dev-dependencies'], names: (v) => keysOf(v) },
  {
    label: '[tool.poetry.group.*.dependencies]',
    keys: ['tool', 'poetry', 'group'],
    names: (v) => {
      const groups = z.record(z.string(), z.object({ dependencies: NameTable.optional() })).safeParse(v).data;
      return groups ? Object.values(groups).flatMap((g) => keysOf(g.dependencies ?? {}) ?? []) : null;
    },
  },
  { label: '[tool.pdm.dev-dependencies]', keys: ['tool', 'pdm', 'dev-dependencies'], names: (v) => flat(StringLists.safeParse(v).data) },
  { label: '[tool.uv].dev-dependencies', keys: ['tool', 'uv', 'dev-dependencies'], names: (v) => Strings.safeParse(v).data ?? null },
];

// Poetry lists the Python version among the dependencies.
const keysOf = (value: unknown): string[] | null => {
  const table = NameTable.safeParse(value).data;
  return table ? Object.keys(table).filter((name) => name.toLowerCase() !== 'python') : null;
};

// PEP 735 groups may also hold `{include-group = "…"}` tables, whose requirements are listed elsewhere.
function flat(lists: Record<string, readonly unknown[]> | undefined): string[] | null {
  if (!lists) return null;
  return Object.values(lists).flatMap((list) => list.filter((item): item is string => typeof item === 'string'));
}

/** pyproject.toml's dependency lists (PEP 621, PEP 735, Poetry, PDM, uv). A malformed file is a problem, not a crash. */
export function parsePyproject(path: string, text: string): Parsed {
  const result: Parsed = { requirements: [], problems: [] };
  let document: unknown;
  try {
    document = parseToml(text);
  } catch (error) {
    const line = error instanceof TomlError ? error.line : 0;
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    result.problems.push({ path, line, message: `${path} is not valid TOML (${message}); its dependencies were not read` });
    return result;
  }
  for (const section of SECTIONS) {
    const value = dig(document, section.keys);
    if (value === undefined) continue;
    const specs = section.names(value);
    if (specs === null) {
      result.problems.push({ path, line: 0, message: `${section.label} in ${path} is not in the expected form; its dependencies were not read` });
      continue;
    }
    for (const spec of specs) {
      const name = requirementName(spec);
      if (name) result.requirements.push({ name, path, line: 0, spec });
      else if (name === null) result.problems.push({ path, line: 0, message: `\`${spec}\` in ${section.label} of ${path} is not a PEP 508 requirement` });
    }
  }
  return result;
}

function dig(value: unknown, keys: readonly string[]): unknown {
  let current = value;
  for (const key of keys) {
    const table = Array.isArray(current) ? undefined : NameTable.safeParse(current).data;
    if (!table) return undefined;
    current = table[key];
  }
  return current;
}

const REQUIREMENTS_FILE = /(^|\/)(requirements[^/]*|requirements\/[^/]+)\.(txt|in)$/;

/** Every requirements*.txt (and requirements/*.txt) and pyproject.toml in the folder, with `-r` includes followed. */
export function collectRequirements(files: readonly SourceFile[]): Declarations {
  const byPath = new Map(files.map((f) => [f.path, f]));
  const requirements: Requirement[] = [];
  const problems: RequirementsProblem[] = [];
  const read = new Set<string>();
  const readTxt = (path: string): void => {
    if (read.has(path)) return;
    read.add(path);
    const text = byPath.get(path)?.text;
    if (text === null || text === undefined) {
      problems.push({ path, line: 0, message: `${path} is not UTF-8 text; its requirements were not read` });
      return;
    }
    const parsed = parseRequirementsTxt(path, text);
    requirements.push(...parsed.requirements);
    problems.push(...parsed.problems);
    for (const include of parsed.includes) {
      const target = posix.normalize(posix.join(posix.dirname(path), include.path));
      if (byPath.has(target)) readTxt(target);
      else problems.push({ path, line: include.line, message: `\`-r ${include.path}\` names a file that is not in the folder` });
    }
  };
  for (const file of files) if (REQUIREMENTS_FILE.test(file.path)) readTxt(file.path);

  const pyprojectFiles = files.filter((f) => posix.basename(f.path) === 'pyproject.toml');
  for (const file of pyprojectFiles) {
    if (file.text === null) {
      problems.push({ path: file.path, line: 0, message: `${file.path} is not UTF-8 text; its dependencies were not read` });
      continue;
    }
    const parsed = parsePyproject(file.path, file.text);
    requirements.push(...parsed.requirements);
    problems.push(...parsed.problems);
  }
  return { requirements, problems, requirementsFiles: [...read], pyprojectFiles: pyprojectFiles.map((f) => f.path) };
}

export function declaredNames(declarations: Declarations): Set<string> {
  return new Set(declarations.requirements.map((r) => normalizeName(r.name)));
}
