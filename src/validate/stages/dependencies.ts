import { posix } from 'node:path';
import type { ValidationConfig } from '../../config/schema.js';
import { sortFindings, stage, type Finding, type StageOutcome } from '../report.js';
import { isTestFile, type ImportRecord, type SourceFile } from '../source.js';
import { testFileRule } from '../test-files.js';
import { distributionsFor, isDeclared, localModules, normalizeName, suggestedDistribution } from './import-names.js';
import { collectRequirements, declaredNames, type Declarations } from './requirements.js';

/** What the environment stage installed (its `installed`), as far as this stage needs it. */
export interface InstalledView {
  /** Distributions the tests can import from: normalised name and top-level import names. */
  readonly distributions: ReadonlyArray<{ readonly name: string; readonly top: readonly string[] }>;
  /** Declared requirements pip could not install (normalised names). */
  readonly failed: ReadonlyArray<{ readonly name: string | null }>;
}

export interface DependenciesInput {
  readonly files: readonly SourceFile[];
  readonly imports: readonly ImportRecord[];
  /** `sys.stdlib_module_names` and the built-in modules of the sandbox's Python. */
  readonly stdlib: ReadonlySet<string>;
  readonly config: ValidationConfig;
  /** The environment stage's result, when it ran: declared imports are then told installed or not installable. */
  readonly installed?: InstalledView | null;
}

/** How an import is satisfied, from worst to best: a module takes the worst of its imports. */
const KINDS = ['undeclared', 'uninstallable', 'optional', 'provided', 'declared', 'installed', 'local', 'stdlib'] as const;
type Kind = (typeof KINDS)[number];

/** What the validator installs in the sandbox for the tests, whether the project declares it or not. */
const PROVIDED_FOR_TESTS = new Set(['pytest', '_pytest']);
const ALWAYS_STDLIB = ['__future__', '__main__'];

/**
 * Checks that every absolute import is the standard library, the code's own module, or a declared
 * requirement: code that imports an undeclared package works here only by accident and fails once installed.
 */
export function runDependencies(input: DependenciesInput): StageOutcome {
  const severity = input.config.dependencies.strict ? 'error' : 'warning';
  const declarations = collectRequirements(input.files);
  const declared = declaredNames(declarations);
  const local = localModules(input.files);
  const stdlib = new Set([...input.stdlib, ...ALWAYS_STDLIB]);
  const where = declareWhere(declarations);
  const installed = input.installed ?? null;
  const failed = new Set((installed?.failed ?? []).flatMap((f) => (f.name ? [f.name] : [])));
  // The environment knows which distribution provides a module even where the table of odd names does not.
  const providers = new Map<string, string[]>();
  for (const dist of installed?.distributions ?? []) {
    for (const top of dist.top) {
      const names = providers.get(top);
      if (names) names.push(normalizeName(dist.name));
      else providers.set(top, [normalizeName(dist.name)]);
    }
  }
  const installedNames = new Set((installed?.distributions ?? []).map((d) => normalizeName(d.name)));
  const declaredKind = (module: string): Kind | null => {
    const top = module.split('.')[0] ?? module;
    const candidates = [...distributionsFor(module).map(normalizeName), ...(providers.get(top) ?? [])];
    const byTable = isDeclared(module, declared);
    const byProvider = (providers.get(top) ?? []).some((name) => declared.has(name));
    if (!byTable && !byProvider) return null;
    if (!installed) return 'declared';
    if (candidates.some((name) => failed.has(name))) return 'uninstallable';
    return byProvider || candidates.some((name) => installedNames.has(name)) ? 'installed' : 'declared';
  };

  const findings: Finding[] = declarations.problems.map((p) => ({
    path: p.path,
    line: p.line,
    rule: posix.basename(p.path) === 'pyproject.toml' ? 'invalid-pyproject' : 'invalid-requirements',
    message: p.message,
    severity,
  }));
  const kinds = new Map<string, Kind>();
  const reported = new Set<string>();
  for (const imp of input.imports) {
    // Relative imports are the code's own; TYPE_CHECKING imports never run.
    if (imp.level > 0 || imp.module === '' || imp.typeChecking) continue;
    const top = imp.module.split('.')[0] ?? imp.module;
    const declaredAs = declaredKind(imp.module);
    // The tests always have their runner: the validator provides it when the project's own pin of it could
    // not be installed (the environment stage reports that once; each test file's import is not a finding).
    const provided = PROVIDED_FOR_TESTS.has(top) && isTestFile(imp.path, testFileRule(input.files)) && (declaredAs === null || declaredAs === 'uninstallable');
    const kind: Kind = stdlib.has(top) ? 'stdlib' : local.has(top) ? 'local' : provided ? 'provided' : (declaredAs ?? (imp.optional ? 'optional' : 'undeclared'));
    const previous = kinds.get(top);
    if (previous === undefined || KINDS.indexOf(kind) < KINDS.indexOf(previous)) kinds.set(top, kind);

    // The test runner imported by the tests is the validator's to provide: nothing to say (issue 10).
    const key = `${imp.path}\0${top}`;
    if (reported.has(key) || (kind !== 'undeclared' && kind !== 'optional' && kind !== 'uninstallable')) continue;
    reported.add(key);
    const dist = suggestedDistribution(imp.module);
    if (kind === 'uninstallable') {
      findings.push({ path: imp.path, line: imp.line, rule: 'dependency-not-installable', message: `\`${imp.module}\` is declared but could not be installed (the environment stage says why): the code cannot run until its requirement is fixed`, severity: 'error' });
      continue;
    }
    const message = {
      undeclared: `\`${imp.module}\` is imported but not declared: add \`${dist}\` to ${where}`,
      optional: `\`${imp.module}\` is imported inside \`try: … except ImportError\` and not declared: the code must work without it; add \`${dist}\` to ${where} if it should be installed`,
    }[kind];
    findings.push({ path: imp.path, line: imp.line, rule: 'undeclared-dependency', message, severity: kind === 'undeclared' ? severity : 'info' });
  }

  const status = findings.some((f) => f.severity === 'error') ? 'failed' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'passed';
  return stage('dependencies', status, summarise(kinds), sortFindings(findings));
}

function declareWhere(declarations: Declarations): string {
  const txt = [...declarations.requirementsFiles].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))[0];
  if (txt) return txt;
  if (declarations.pyprojectFiles.length > 0) return `${declarations.pyprojectFiles[0]} [project].dependencies`;
  return 'requirements.txt (or pyproject.toml [project].dependencies)';
}

// The main requirements file at the top of the folder is where a run-time dependency belongs.
function rank(path: string): number {
  return path.split('/').length * 2 + (posix.basename(path) === 'requirements.txt' ? 0 : 1);
}

const LABELS: Record<Exclude<Kind, 'undeclared'>, string> = {
  stdlib: 'standard library',
  local: 'local',
  installed: 'declared and installed',
  declared: 'declared',
  uninstallable: 'declared but not installable',
  provided: 'provided by the validator',
  optional: 'optional and undeclared',
};

function summarise(kinds: ReadonlyMap<string, Kind>): string {
  if (kinds.size === 0) return 'no absolute imports';
  const names = (kind: Kind): string[] => [...kinds].filter(([, k]) => k === kind).map(([name]) => name).sort();
  const parts = (['stdlib', 'local', 'installed', 'declared', 'uninstallable', 'provided', 'optional'] as const)
    .filter((kind) => names(kind).length > 0)
    .map((kind) => `${names(kind).length} ${LABELS[kind]}${kind === 'provided' || kind === 'optional' || kind === 'uninstallable' ? ` (${names(kind).join(', ')})` : ''}`);
  const undeclared = names('undeclared');
  const head = `${kinds.size} imported ${kinds.size === 1 ? 'module' : 'modules'}: ${parts.join(', ')}`;
  return undeclared.length === 0 ? head : `${head}${parts.length > 0 ? '; ' : ''}${undeclared.length} undeclared (${undeclared.join(', ')})`;
}
