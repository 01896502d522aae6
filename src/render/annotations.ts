import { sortFindings, type Finding, type Report, type Severity, type StageName } from '../validate/report.js';
import {
  failedTestDetails, fileOf, splitReport, stripControl, testPath, truncateBytes, truncateChars, type FailedTest,
} from './common.js';

export type AnnotationLevel = 'notice' | 'warning' | 'failure';

/** One entry of a check run's `output.annotations`, field for field as GitHub's REST API takes it. */
export interface CheckRunAnnotation {
  /** Relative to the repository root, forward slashes. */
  path: string;
  start_line: number;
  end_line: number;
  /** Only on single-line annotations: GitHub rejects columns when start_line ≠ end_line. */
  start_column?: number;
  end_column?: number;
  annotation_level: AnnotationLevel;
  message: string;
  title?: string;
  raw_details?: string;
}

/** GitHub takes at most this many annotations per create or update request. */
export const MAX_ANNOTATIONS_PER_REQUEST = 50;
// GitHub's stated limits: 64 KB for message and raw_details (read as bytes, one spare), 255 for title.
const MAX_TEXT_BYTES = 65_535;
const MAX_TITLE = 255;

const LEVELS: Record<Severity, AnnotationLevel> = { error: 'failure', warning: 'warning', info: 'notice' };
const SEVERITY_RANK: Record<Severity, number> = { error: 1, warning: 2, info: 3 };
// The tool's name reads better than the stage's where they differ (`ruff E501`, not `lint E501`).
const TOOLS: Partial<Record<StageName, string>> = { lint: 'ruff' };

/**
 * Every failed test and finding that names a file, worst first, so that a caller sending only the first
 * batches still shows what matters. Findings about the whole project (no path) stay in the summary.
 */
export function toAnnotations(report: Report): CheckRunAnnotation[] {
  const { failedTests, stages } = splitReport(report);
  const findings = stages
    .flatMap((s) => sortFindings(s.findings).map((finding) => ({ stage: s.stage, finding })))
    .sort((a, b) => SEVERITY_RANK[a.finding.severity] - SEVERITY_RANK[b.finding.severity]);
  return [
    ...failedTests.flatMap((t) => testAnnotation(t) ?? []),
    ...findings
      .filter(({ finding }) => fileOf(finding) !== undefined)
      .map(({ stage, finding }) => findingAnnotation(stage, finding)),
  ];
}

/** Splits annotations into request-sized batches (GitHub takes 50 per request). */
export function batchAnnotations(
  annotations: readonly CheckRunAnnotation[],
  size = MAX_ANNOTATIONS_PER_REQUEST,
): CheckRunAnnotation[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`batch size must be a positive integer, got ${size}`);
  const batches: CheckRunAnnotation[][] = [];
  for (let at = 0; at < annotations.length; at += size) batches.push(annotations.slice(at, at + size));
  return batches;
}

function findingAnnotation(stage: StageName, finding: Finding): CheckRunAnnotation {
  const title = [TOOLS[stage] ?? stage, finding.rule].filter((p) => p !== '').join(' ');
  return annotation({
    path: finding.path,
    line: finding.line,
    endLine: finding.endLine,
    column: finding.column,
    level: LEVELS[finding.severity],
    title,
    message: stripControl(finding.message).trim() || title,
    details: finding.details,
  });
}

function testAnnotation(failed: FailedTest): CheckRunAnnotation | undefined {
  const { testCase, finding } = failed;
  const path = testPath(testCase) ?? (finding && fileOf(finding));
  if (path === undefined) return undefined;
  const verb = testCase.outcome === 'error' ? 'error' : 'failed';
  const message = stripControl(testCase.message ?? '').trim();
  return annotation({
    path,
    line: testCase.line ?? (finding?.path === path ? finding.line : 0),
    level: 'failure',
    title: `test ${verb}`,
    message: message === '' ? `${testCase.id} ${verb}` : `${testCase.id} ${verb}\n\n${message}`,
    details: failedTestDetails(failed),
  });
}

interface AnnotationInput {
  path: string;
  line: number;
  endLine?: number | undefined;
  column?: number | undefined;
  level: AnnotationLevel;
  title: string;
  message: string;
  details?: string | undefined;
}

function annotation(input: AnnotationInput): CheckRunAnnotation {
  // Line 0 means "the whole file"; GitHub needs a real line, and the first is where a reader looks.
  const start = Math.max(1, input.line);
  const end = Math.max(start, input.endLine ?? start);
  const result: CheckRunAnnotation = {
    path: input.path,
    start_line: start,
    end_line: end,
    annotation_level: input.level,
    message: truncateBytes(input.message, MAX_TEXT_BYTES),
    title: truncateChars(input.title, MAX_TITLE),
  };
  if (start === end && input.line > 0 && input.column !== undefined && input.column > 0) {
    result.start_column = input.column;
    result.end_column = input.column;
  }
  const details = input.details === undefined ? '' : stripControl(input.details).replace(/\s+$/, '');
  if (details !== '') result.raw_details = truncateBytes(details, MAX_TEXT_BYTES);
  return result;
}
