import type { ValidationConfig } from '../config/schema.js';
import type { SolutionFile } from '../llm/index.js';
import { isTestPath } from '../pipeline/context/conventions.js';
import type { ReadySandbox } from '../sandbox/select.js';
import { validateWorkspace, type Linter } from '../validate/pipeline.js';
import type { Report } from '../validate/report.js';
import { writeWorkspace } from '../validate/workspace.js';
import { hiddenTests, SOLUTION_PATH, type Problem } from './humaneval.js';
import type { FailureClass } from './report.js';

export interface Score {
  readonly passed: boolean;
  readonly failure: FailureClass | null;
  /** The first line of what failed. */
  readonly detail: string | null;
}

export interface ScorePorts {
  readonly sandbox: ReadySandbox;
  readonly linter: Linter;
  readonly signal?: AbortSignal;
}

/**
 * An answer held to the problem's own tests, in the sandbox: the answer's code (its tests and conftest
 * left out, so they can neither shadow nor help the hidden ones) and the problem's `check` as
 * `test_solution.py`. Only the tests decide: lint and security findings do not count against a score.
 */
export async function scoreAnswer(problem: Problem, files: readonly SolutionFile[], config: ValidationConfig, ports: ScorePorts): Promise<Score> {
  const code = files.filter((f) => f.content !== null && !isTestPath(f.path) && !/(^|\/)conftest\.py$/.test(f.path));
  if (!code.some((f) => f.path === SOLUTION_PATH)) {
    return { passed: false, failure: 'import', detail: `the answer has no ${SOLUTION_PATH} at the repository root` };
  }
  const workspace = await writeWorkspace([...code.map((f) => ({ path: f.path, content: Buffer.from(f.content!) })), hiddenTests(problem)]);
  try {
    const report = await validateWorkspace(workspace, { config, sandbox: ports.sandbox, linter: ports.linter, ...(ports.signal ? { signal: ports.signal } : {}) });
    ports.signal?.throwIfAborted();
    return classify(report);
  } finally {
    await workspace.dispose();
  }
}

/** The failure class of a hidden-test run. */
export function classify(report: Report): Score {
  const { tests } = report;
  const syntax = report.stages.find((s) => s.name === 'syntax');
  if (syntax?.status === 'failed') return { passed: false, failure: 'syntax', detail: firstLine(syntax.findings[0]?.message ?? syntax.summary) };
  if (tests.timedOut) return { passed: false, failure: 'timeout', detail: firstLine(report.stages.find((s) => s.name === 'tests')?.summary ?? 'the tests timed out') };
  if (tests.passed > 0 && tests.failed === 0 && tests.errors === 0) return { passed: true, failure: null, detail: null };
  const failed = tests.cases.find((c) => c.outcome === 'failed');
  // An error is pytest failing to collect or set up the test: the module or the function did not import.
  const errored = tests.cases.find((c) => c.outcome === 'error');
  if (failed) return { passed: false, failure: 'test-failure', detail: firstLine(failed.message ?? failed.id) };
  const testsStage = report.stages.find((s) => s.name === 'tests');
  return { passed: false, failure: 'import', detail: firstLine(errored?.message ?? testsStage?.summary ?? 'the tests did not run') };
}

function firstLine(text: string): string {
  const line = text.trim().split('\n')[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 299)}…` : line;
}
