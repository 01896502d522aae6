import type { FailureFeedback, SolutionFile } from '../llm/index.js';
import type { Report } from '../validate/report.js';
import { decodeText } from '../validate/workspace.js';
import { attemptPassed, failedStages, validateAttempt, type Attempt, type AttemptsInput } from './attempt.js';
import { applyModelPatch } from './generate/apply-patch.js';
import { applyPathPolicy } from './generate/path-policy.js';
import { mergeRequirements, REQUIREMENTS_PATH } from './requirements.js';
import { strengthenTests } from './strengthen.js';

/**
 * Generation and repair: ask for a solution, hold it to the path policy, validate it in the sandbox over
 * the repository's files, and on failure ask again with the failing tests and findings, up to
 * `max_attempts`. Returns every attempt; the last one passed, or none did.
 */
export async function generateAndValidate(input: AttemptsInput): Promise<Attempt[]> {
  const { config, ports } = input;
  const attempts: Attempt[] = [];
  let feedback: FailureFeedback | undefined;
  // A patch that did not apply gets one corrective round with the current file, even after a passing
  // validation (which proves nothing about the change that was lost) and even past max_attempts.
  let corrected = false;
  let rounds = config.max_attempts;
  for (let n = 1; n <= rounds; n++) {
    await input.onAttempt(n);
    const previous = attempts.at(-1);
    const asked = performance.now();
    const solution = await ports.model.solve(
      {
        task: input.task,
        analysis: input.analysis,
        context: input.context,
        ...(input.refinement ? { refinement: input.refinement } : {}),
        ...(previous && feedback ? { repair: { previous: previous.accepted, failures: feedback } } : {}),
      },
      input.usage,
      { model: input.model, ...(ports.signal ? { signal: ports.signal } : {}) },
    );
    const modelMs = performance.now() - asked;
    const checked = applyPathPolicy(solution.files, config.paths, input.blocked);
    const patched = applyPatches(checked.accepted, checked.rejected, input.repoFiles);
    const declared = declareDependencies(solution.dependencies, patched, input);
    const attempt = await validateAttempt(input, { number: n, solution, rejected: declared.rejected, modelMs }, declared.accepted);
    attempts.push(attempt);
    await input.onValidated?.(attempt);
    const patchFailed = patched.failedPatches > 0 && !corrected;
    if (attemptPassed(attempt) && !patchFailed) break;
    if (patchFailed) {
      corrected = true;
      if (n === rounds) rounds++;
    }
    feedback = feedbackFrom(attempt.report, attempt.rejected);
  }
  const last = attempts.at(-1)!;
  // Stronger tests are asked for a new solution only: a refinement answers its reviewers, nothing more.
  // Only mutants that no test noticed make a round: an attempt whose tests killed them all gets none (null).
  const strengthened = attemptPassed(last) && !input.refinement ? await strengthenTests(input, last) : null;
  if (strengthened) {
    attempts[attempts.length - 1] = strengthened;
    await input.onStrengthened?.(strengthened);
  }
  return attempts;
}

/** How many findings a repair prompt carries. */
const MAX_FEEDBACK_FINDINGS = 40;

/**
 * What the next attempt is told: only what this change introduced — tests it broke or added failing,
 * then its findings, blocking ones first — never what was wrong on the base branch already.
 */
function feedbackFrom(report: Report, rejected: ReadonlyArray<{ path: string; reason: string }>): FailureFeedback {
  const blocking = report.base === undefined ? null : new Set([...(report.tests.regressed ?? []), ...(report.tests.newFailing ?? [])]);
  const failing = report.tests.cases.filter((c) => (c.outcome === 'failed' || c.outcome === 'error') && (blocking === null || blocking.has(c.id)));
  const regressed = new Set(report.tests.regressed ?? []);
  const rank = { error: 0, warning: 1, info: 2 } as const;
  const findings = report.stages
    .filter((s) => s.name !== 'coverage')
    .flatMap((s) => s.findings)
    .filter((f) => f.introduced !== false && f.severity !== 'info' && f.rule !== 'test-failed' && f.rule !== 'test-error')
    .sort((a, b) => rank[a.severity] - rank[b.severity])
    .slice(0, MAX_FEEDBACK_FINDINGS);
  return {
    failingTests: failing.map((c) => ({ id: c.id, outcome: c.outcome, message: regressed.has(c.id) ? `regressed: it passed on the base branch. ${c.message ?? ''}`.trim() : c.message, details: c.details })),
    findings: findings.map((f) => ({ path: f.path, line: f.line, rule: f.rule, message: f.message, severity: f.severity })),
    summaries: failedStages(report),
    rejectedPaths: rejected,
  };
}

/**
 * The solution's `dependencies` written into `requirements.txt` — merged into the model's own version of it,
 * or the repository's — when the path policy lets that file be written; otherwise they are left out, as the
 * repository's settings say. Entries that are no single requirement are listed as not written, with why.
 */
function declareDependencies(
  dependencies: readonly string[],
  policy: { accepted: SolutionFile[]; rejected: Array<{ path: string; reason: string }> },
  input: Pick<AttemptsInput, 'repoFiles' | 'config' | 'blocked'>,
): { accepted: SolutionFile[]; rejected: Array<{ path: string; reason: string }> } {
  if (dependencies.length === 0) return policy;
  const allowed = applyPathPolicy([{ path: REQUIREMENTS_PATH, content: '', patch: null }], input.config.paths, input.blocked).accepted.length === 1;
  if (!allowed) return policy;
  const own = policy.accepted.find((f) => f.path === REQUIREMENTS_PATH);
  const existing = input.repoFiles.get(REQUIREMENTS_PATH);
  const base = own ? (own.content ?? '') : existing === undefined ? null : decodeText(existing);
  // A requirements file that is not UTF-8 text is left alone.
  if (!own && existing !== undefined && base === null) return policy;
  const merged = mergeRequirements(base, dependencies);
  const rejected = [...policy.rejected, ...merged.refused.map((r) => ({ path: REQUIREMENTS_PATH, reason: `the dependency ${JSON.stringify(r.entry)} was not added: ${r.reason}` }))];
  if (merged.text === null) return { accepted: policy.accepted, rejected };
  const file: SolutionFile = { path: REQUIREMENTS_PATH, content: merged.text, patch: null };
  const accepted = own ? policy.accepted.map((f) => (f === own ? file : f)) : [...policy.accepted, file];
  return { accepted, rejected };
}

/** How much of a file's current content a failed patch's feedback carries back to the model. */
const MAX_CONTENT_IN_FEEDBACK = 20_000;

/**
 * Turns patch entries into whole files by applying them to the files as they are. A patch that does not
 * apply writes nothing: the file is listed as not written, and the next attempt is told why, with the
 * file's current content — the corrective round.
 */
function applyPatches(
  accepted: readonly SolutionFile[],
  rejected: ReadonlyArray<{ path: string; reason: string }>,
  repoFiles: ReadonlyMap<string, Buffer>,
): { accepted: SolutionFile[]; rejected: Array<{ path: string; reason: string }>; failedPatches: number } {
  const result = { accepted: [] as SolutionFile[], rejected: [...rejected], failedPatches: 0 };
  for (const file of accepted) {
    if (file.content !== null || file.patch === null) {
      result.accepted.push(file);
      continue;
    }
    const existing = repoFiles.get(file.path);
    const current = existing === undefined ? null : decodeText(existing);
    if (existing !== undefined && current === null) {
      result.rejected.push({ path: file.path, reason: 'the file is not UTF-8 text, so it cannot be patched' });
      continue;
    }
    const applied = applyModelPatch(file.path, current, file.patch);
    if (applied.ok) result.accepted.push({ ...file, content: applied.content, patch: null });
    else {
      result.failedPatches++;
      const shown = current === null ? '' : `\n\n${current.length > MAX_CONTENT_IN_FEEDBACK ? `${current.slice(0, MAX_CONTENT_IN_FEEDBACK)}\n… (cut)` : current}`;
      result.rejected.push({ path: file.path, reason: `${applied.reason}${shown}` });
    }
  }
  return result;
}
