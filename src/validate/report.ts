import { z } from 'zod';

/**
 * The stages of a validation, in the order they are reported. `environment` (installing the project's
 * dependencies) appears when the validation is given that stage, and `mutation` (whether the tests notice
 * faults) when it has a time budget: in whole-folder and change-scoped runs alike.
 */
export const STAGE_NAMES = ['syntax', 'lint', 'security', 'dependencies', 'environment', 'tests', 'coverage', 'mutation'] as const;
export type StageName = (typeof STAGE_NAMES)[number];

export const SEVERITIES = ['error', 'warning', 'info'] as const;
export type Severity = (typeof SEVERITIES)[number];

export const FindingSchema = z.object({
  /** Path relative to the validated folder, with forward slashes. */
  path: z.string(),
  /** 1-based line; 0 when the finding is about the whole file or project. */
  line: z.number().int().nonnegative(),
  /** 1-based column, when known. */
  column: z.number().int().nonnegative().optional(),
  endLine: z.number().int().nonnegative().optional(),
  rule: z.string(),
  message: z.string(),
  severity: z.enum(SEVERITIES),
  /** Longer text: a traceback, a formatting diff. */
  details: z.string().optional(),
  /**
   * In a change-scoped validation (`--base`): whether the change introduced it (true) or it was there at
   * the base already (false). Absent without a base.
   */
  introduced: z.boolean().optional(),
});
export type Finding = z.infer<typeof FindingSchema>;

export const StageStatusSchema = z.enum(['passed', 'failed', 'warning', 'skipped', 'error']);
export type StageStatus = z.infer<typeof StageStatusSchema>;

export const StageResultSchema = z.object({
  name: z.enum(STAGE_NAMES),
  status: StageStatusSchema,
  summary: z.string(),
  findings: z.array(FindingSchema),
  durationMs: z.number().nonnegative(),
});
export type StageResult = z.infer<typeof StageResultSchema>;

export const TestCaseSchema = z.object({
  /** pytest node id, e.g. `tests/test_calc.py::test_add`. */
  id: z.string(),
  outcome: z.enum(['passed', 'failed', 'error', 'skipped']),
  durationMs: z.number().nonnegative(),
  path: z.string().optional(),
  line: z.number().int().nonnegative().optional(),
  /** The assertion text or error, for failures and errors; the reason, for skips. */
  message: z.string().optional(),
  /** A short traceback. */
  details: z.string().optional(),
});
export type TestCase = z.infer<typeof TestCaseSchema>;

export const TestCountsSchema = z.object({
  passed: z.number().int().nonnegative(),
  failed: z.number().int().nonnegative(),
  errors: z.number().int().nonnegative(),
  skipped: z.number().int().nonnegative(),
  timedOut: z.boolean(),
});
export type TestCounts = z.infer<typeof TestCountsSchema>;

export const CoverageSchema = z.object({
  /** Percent of statements of the non-test files that ran; null when it could not be measured. */
  percent: z.number().min(0).max(100).nullable(),
  files: z.array(
    z.object({ path: z.string(), percent: z.number(), missingLines: z.array(z.number().int()) }),
  ),
});
export type Coverage = z.infer<typeof CoverageSchema>;

/** A test's outcome at the base commit and with the change, for the tests the change adds or modifies. */
export const EvidenceSchema = z.object({
  test: z.string(),
  base: z.enum(['passed', 'failed', 'error', 'skipped', 'missing']),
  head: z.enum(['passed', 'failed', 'error', 'skipped', 'missing']),
});
export type Evidence = z.infer<typeof EvidenceSchema>;

/** Whether a piece of evidence shows the change's effect: the test does not pass at the base and passes with the change. */
export function failsBeforePassesAfter(evidence: Evidence): boolean {
  return evidence.base !== 'passed' && evidence.base !== 'skipped' && evidence.head === 'passed';
}

export const MUTANT_STATUSES = ['killed', 'survived', 'timedOut', 'notCovered', 'error'] as const;
export const MutantSchema = z.object({
  path: z.string(),
  line: z.number().int().positive(),
  /** e.g. `compare`, `boolean`, `arithmetic`, `constant`, `return`, `negate-condition`, `remove-call`, `loop-control`. */
  operator: z.string(),
  /** The source text of the line (or expression) before and after the mutation. */
  original: z.string(),
  mutated: z.string(),
  status: z.enum(MUTANT_STATUSES),
});
export type Mutant = z.infer<typeof MutantSchema>;

export const MutationSchema = z.object({
  /** killed (timed-out counted as killed) over the mutants the tests ran against, in percent; null when none ran. */
  score: z.number().min(0).max(100).nullable(),
  killed: z.number().int().nonnegative(),
  survived: z.number().int().nonnegative(),
  timedOut: z.number().int().nonnegative(),
  notCovered: z.number().int().nonnegative(),
  /** How many mutants were run, when fewer than all that were made (the budget ran out). */
  sampled: z.number().int().nonnegative(),
  /** How many mutants were made in all. */
  total: z.number().int().nonnegative(),
  mutants: z.array(MutantSchema),
});
export type MutationReport = z.infer<typeof MutationSchema>;

export const ReportSchema = z.object({
  passed: z.boolean(),
  stages: z.array(StageResultSchema),
  tests: TestCountsSchema.extend({
    cases: z.array(TestCaseSchema),
    /** Change-scoped only: passed at the base, fail with the change. */
    regressed: z.array(z.string()).optional(),
    /** Change-scoped only: tests the change adds or modifies that fail with it. */
    newFailing: z.array(z.string()).optional(),
    /** Change-scoped only: failed at the base and still fail (not the change's doing). */
    stillFailing: z.array(z.string()).optional(),
    /** Change-scoped only: failed at the base and pass with the change. */
    fixed: z.array(z.string()).optional(),
  }),
  coverage: CoverageSchema.extend({
    /** Change-scoped only: the added or modified executable lines the tests ran (patch coverage). */
    changedLines: z.object({ covered: z.number().int().nonnegative(), total: z.number().int().nonnegative(), percent: z.number().min(0).max(100).nullable() }).optional(),
  }),
  /** Change-scoped only: the base commit the change was judged against. */
  base: z.string().optional(),
  /** Change-scoped only: the tests the change adds or modifies, at the base and with the change. */
  evidence: z.array(EvidenceSchema).optional(),
  mutation: MutationSchema.optional(),
  /** The Python that ran the tests (version and where it came from). */
  python: z.object({ version: z.string(), path: z.string(), note: z.string().optional() }).optional(),
  sandbox: z.string(),
  durationMs: z.number().nonnegative(),
});
export type Report = z.infer<typeof ReportSchema>;

/** A stage's result before the pipeline stamps its duration on it. */
export type StageOutcome = Omit<StageResult, 'durationMs'>;

export function stage(name: StageName, status: StageStatus, summary: string, findings: Finding[] = []): StageOutcome {
  return { name, status, summary, findings };
}

const SEVERITY_ORDER: Record<Severity, number> = { error: 0, warning: 1, info: 2 };

/** Findings ordered as a reader wants them: worst first, then by place. */
export function sortFindings(findings: readonly Finding[]): Finding[] {
  return [...findings].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      a.path.localeCompare(b.path) ||
      a.line - b.line ||
      (a.column ?? 0) - (b.column ?? 0),
  );
}
