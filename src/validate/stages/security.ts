import type { SecurityLevel, ValidationConfig } from '../../config/schema.js';
import { sortFindings, stage, type Finding, type StageOutcome } from '../report.js';
import { isSyntaxDiagnostic, type RuffPass, type RuffPassResult } from '../ruff/ruff-protocol.js';
import { diagnosticFinding } from '../ruff/findings.js';
import { atLeast, banditLevel } from './security-levels.js';

/** Ruff's flake8-bandit rules, whatever `lint.select` says. */
const SECURITY_RULES = ['S'];
/** pytest's checks are asserts: bandit's own docs advise skipping B101 in tests. */
const NOT_IN_TESTS = ['S101'];

/**
 * The code, then the tests without the assert rule, because those ignores differ (a Workspace checks a text,
 * not a path); each split by the Python version the repository's Ruff settings name for the file, which
 * decides what parses and what some rules see. Nothing else of the repository's Ruff settings applies: the
 * rules are Code4Py's, no file is excluded (generated code must not escape into a folder the repository
 * excludes), and `# noqa` is not honoured — generated code could otherwise silence its own security
 * findings; a maintainer waives a rule with `security.ignore` instead.
 */
export function securityPasses(code: readonly string[], tests: readonly string[], targetOf: (path: string) => string, config: ValidationConfig): RuffPass[] {
  const ignore = config.security.ignore;
  return [...byTarget(code, targetOf, [...ignore]), ...byTarget(tests, targetOf, [...ignore, ...NOT_IN_TESTS])];
}

function byTarget(paths: readonly string[], targetOf: (path: string) => string, ignore: string[]): RuffPass[] {
  const groups = new Map<string, string[]>();
  for (const path of paths) {
    const target = targetOf(path);
    const group = groups.get(target);
    if (group) group.push(path);
    else groups.set(target, [path]);
  }
  return [...groups].map(([target, group]) => ({
    options: { ...(target ? { 'target-version': target } : {}), 'output-prefer-rule-codes': true, lint: { select: SECURITY_RULES, ignore } },
    paths: group,
    format: false,
    ignoreSuppressions: true,
  }));
}

export interface SecurityContext {
  /** Python files given to Ruff. */
  readonly checked: number;
  /** Files with syntax errors: the syntax stage fails them, their partial parse is not judged here. */
  readonly broken: ReadonlySet<string>;
  /** Python files that are not UTF-8 text (the lint stage lists them). */
  readonly unreadable: number;
  readonly version: string;
}

export function securityOutcome(results: readonly RuffPassResult[], context: SecurityContext, config: ValidationConfig): StageOutcome {
  const findings: Finding[] = [];
  const levels: SecurityLevel[] = [];
  for (const result of results) {
    if (!result.ok) return stage('security', 'error', `Ruff refused the security settings (security.ignore?): ${result.error}`, findings);
    for (const file of result.files) {
      if (context.broken.has(file.path)) continue;
      if (file.error !== null) {
        // A file Ruff could not read cannot be called safe.
        findings.push({ path: file.path, line: 0, rule: 'ruff-error', message: `Ruff could not check this file: ${file.error}`, severity: 'error' });
        continue;
      }
      for (const d of file.diagnostics) {
        if (isSyntaxDiagnostic(d) || d.code === null) continue;
        const level = banditLevel(d.code, d.message);
        levels.push(level);
        findings.push(diagnosticFinding(file.path, { ...d, code: d.code }, atLeast(level, config.security.fail_on) ? 'error' : 'warning', `[${level}] ${d.message}`));
      }
    }
  }
  const status = findings.some((f) => f.severity === 'error') ? 'failed' : findings.some((f) => f.severity === 'warning') ? 'warning' : 'passed';
  return stage('security', status, summarise(levels, findings, context, config.security.fail_on), sortFindings(findings));
}

function summarise(levels: readonly SecurityLevel[], findings: readonly Finding[], context: SecurityContext, failOn: SecurityLevel): string {
  const files = `${context.checked} ${context.checked === 1 ? 'file' : 'files'}`;
  const skipped = [
    context.broken.size > 0 ? `; ${context.broken.size} with syntax errors not checked` : '',
    context.unreadable > 0 ? `; ${context.unreadable} not UTF-8, not checked` : '',
  ].join('');
  if (levels.length === 0) return `no findings in ${files}${skipped} (Ruff ${context.version})`;
  const count = (level: SecurityLevel): number => levels.filter((l) => l === level).length;
  const byLevel = (['high', 'medium', 'low'] as const)
    .filter((level) => count(level) > 0)
    .map((level) => `${count(level)} ${level}`)
    .join(', ');
  const affected = new Set(findings.filter((f) => f.rule.startsWith('S')).map((f) => f.path)).size;
  return `${levels.length} ${levels.length === 1 ? 'finding' : 'findings'} (${byLevel}) in ${affected} of ${files}${skipped}; failing at ${failOn} and above (Ruff ${context.version})`;
}
