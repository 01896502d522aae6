import type { Report } from '../validate/report.js';
import { truncateChars } from './common.js';
import { checkRunTitle } from './figures.js';
import { codeSpan, escapeInline } from './markdown.js';

/** The words the bot's clarifying comment starts with; it asks once per issue, found again by them. */
export const CLARIFICATION_MARK = 'Code4Py needs to know more before it writes code:';

const MAX_ITEM = 500;
const MAX_QUOTE = 300;

/**
 * The clarifying comment: the questions, numbered, and the assumptions `generate` would go ahead with,
 * so that a maintainer can see whether answering is worth it.
 */
export function renderClarification(input: { questions: readonly string[]; assumptions: readonly string[]; command: string }): string {
  const questions = input.questions.map((q, i) => `${i + 1}. ${escapeInline(truncateChars(q, MAX_ITEM))}`).join('\n');
  const goAhead = input.assumptions.length > 0
    ? `Answer in a comment and Code4Py goes on with your answer, or comment ${codeSpan(`${input.command} generate`)} to go ahead now with these assumptions:\n\n${input.assumptions.map((a) => `- ${escapeInline(truncateChars(a, MAX_ITEM))}`).join('\n')}`
    : `Answer in a comment and Code4Py goes on with your answer, or comment ${codeSpan(`${input.command} generate`)} to go ahead now with its own reading of the issue.`;
  return `❓ ${CLARIFICATION_MARK}\n\n${questions}\n\n${goAhead}`;
}

export interface RefineReply {
  readonly commit: string;
  readonly sender: string;
  /** The feedback this commit answers, as the reviewer wrote it. */
  readonly feedback: string;
  /** The refinement's own summary: what was changed for this feedback. */
  readonly summary: string;
  /** The files this commit changed, against the branch head it was built on. */
  readonly files: readonly string[];
  readonly report: Report;
  readonly checkRunUrl: string | null;
}

/** The reply to a refinement: the feedback it answers, what was changed for it, and the new commit's validation in one line. */
export function renderRefineReply(r: RefineReply): string {
  const [first = '', ...rest] = r.feedback.trim().split('\n');
  // The first line says what was asked; the rest is on the pull request already.
  const quote = escapeInline(truncateChars(rest.some((l) => l.trim() !== '') ? `${first} …` : first, MAX_QUOTE));
  const outcome = r.report.passed ? '✅ Validation passed' : '❌ Validation failed';
  const details = r.checkRunUrl ? ` ([details](${r.checkRunUrl}))` : '';
  return [
    `🔁 Code4Py pushed ${r.commit.slice(0, 7)} for @${r.sender}:`,
    ...(quote !== '' ? [`> ${quote}`] : []),
    `**What changed:** ${escapeInline(truncateChars(r.summary, 2_000))}`,
    `**Files:** ${r.files.length > 0 ? r.files.map(codeSpan).join(', ') : '(none)'}`,
    `${outcome}: ${checkRunTitle(r.report)}${details}. The pull request's description shows this commit's validation.`,
  ].join('\n\n');
}
