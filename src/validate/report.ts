import { z } from 'zod';

/** The stages of a validation, in the order they are reported (DESIGN.md §5). */
export const STAGE_NAMES = ['syntax', 'lint', 'security', 'dependencies', 'tests', 'coverage'] as const;
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

export const ReportSchema = z.object({
  passed: z.boolean(),
  stages: z.array(StageResultSchema),
  tests: TestCountsSchema.extend({ cases: z.array(TestCaseSchema) }),
  coverage: CoverageSchema,
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
