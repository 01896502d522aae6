import type { TokenUsage } from '../llm/index.js';
import type { RepoSource } from '../pipeline/ports.js';
import type { Attempted } from '../pipeline/solve.js';
import { firstParagraph, plural, stripControl } from '../render/common.js';
import { renderText } from '../render/text.js';

/** What `code4py generate` wrote, or why it wrote nothing. */
export interface Written {
  readonly dir: string | null;
  readonly files: ReadonlyArray<{ path: string; kind: 'added' | 'replaced' }>;
  readonly skipped: ReadonlyArray<{ path: string; reason: string }>;
  /** Set when nothing was written on purpose. */
  readonly withheld?: string;
}

export interface SummaryInput {
  readonly result: Attempted<RepoSource>;
  readonly written: Written;
  readonly model: string;
  readonly usage: Readonly<TokenUsage>;
  readonly color: boolean;
}

const RULE = '─'.repeat(72);
const CONTEXT_NAMES = 8;

/**
 * What `code4py generate` prints on standard output, for a person at a terminal: the change the bot would
 * propose (title, summary, requirements, assumptions, files), the model's cost, then the validation as
 * `code4py validate` prints it. Plain text: the pull request's markdown, HTML and GitHub commands belong
 * on GitHub. The model's words are shown without control characters, so they cannot steer the terminal.
 */
export function summaryText({ result, written, model, usage, color }: SummaryInput): string {
  const bold = (text: string) => (color ? `\x1b[1m${text}\x1b[0m` : text);
  const { analysis, last } = result;
  const list = (items: readonly string[]) => (items.length ? items.map((item) => `  - ${oneLine(item)}`) : ['  (none)']);
  const context = result.context.paths;
  return [
    bold(`Code4Py's change: ${oneLine(analysis.title)}`),
    RULE,
    paragraph(last.solution.summary),
    '',
    'Requirements understood:',
    ...list(analysis.requirements),
    ...(analysis.assumptions.length ? ['', 'Assumptions:', ...list(analysis.assumptions)] : []),
    '',
    ...filesBlock(result, written),
    ...(last.rejected.length
      ? ['', 'Not written (the model proposed them, but they were refused):', ...last.rejected.map((f) => `  ${oneLine(f.path)}: ${oneLine(firstParagraph(f.reason))}`)]
      : []),
    '',
    `Repository context: ${plural(context.length, 'file')}${context.length ? ` (${context.slice(0, CONTEXT_NAMES).join(', ')}${context.length > CONTEXT_NAMES ? ', …' : ''})` : ''}`,
    `Model: ${model}, ${usage.total} tokens (${usage.prompt} prompt, ${usage.completion} completion) in ${plural(usage.calls, 'call')}; ${plural(last.number, 'attempt')}`,
    RULE,
    '',
    renderText(last.report, { color }),
  ].join('\n');
}

function filesBlock(result: Attempted<RepoSource>, written: Written): string[] {
  if (written.withheld) {
    const kinds = result.changed.map((f) => `  ${(result.repoFiles.has(f.path) ? 'changed' : 'added').padEnd(9)} ${oneLine(f.path)}`);
    return [`Nothing was written: ${written.withheld}.`, ...(kinds.length ? ['The files of the last attempt:', ...kinds] : [])];
  }
  return [
    `Files written to ${written.dir}:`,
    ...written.files.map((f) => `  ${f.kind.padEnd(9)} ${f.path}`),
    ...written.skipped.map((f) => `  not written ${f.path}: ${f.reason}`),
  ];
}

/** The questions of a task too vague to start, and how to go on from the command line. */
export function questionsText(questions: readonly string[], assumptions: readonly string[]): string {
  return [
    'Code4Py needs to know more before it writes code:',
    '',
    ...questions.map((q, i) => `${i + 1}. ${oneLine(q)}`),
    ...(assumptions.length ? ['', 'Its assumptions so far:', ...assumptions.map((a) => `- ${oneLine(a)}`)] : []),
    '',
    'Run the command again with --answer "your answer" to go on with your answer, or with --assume to go ahead with its assumptions.',
    '',
  ].join('\n');
}


function oneLine(text: string): string {
  return stripControl(text).replace(/\s*\n\s*/g, ' ').trim();
}

/** A paragraph of the model's, kept in its lines, without control characters. */
function paragraph(text: string): string {
  return stripControl(text.trim()) || '(no summary)';
}
