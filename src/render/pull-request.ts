import type { Report } from '../validate/report.js';
import { codeSpan, escapeInline, renderMarkdown } from './markdown.js';

export interface PullRequestContent {
  /** The issue the pull request closes; none for a local run (`code4py generate`). */
  readonly issue?: number;
  readonly summary: string;
  readonly requirements: readonly string[];
  readonly assumptions: readonly string[];
  readonly files: ReadonlyArray<{ path: string; kind: 'added' | 'changed' }>;
  readonly notWritten: ReadonlyArray<{ path: string; reason: string }>;
  readonly contextFiles: readonly string[];
  readonly report: Report;
  readonly attempts: number;
  readonly tokens: { prompt: number; completion: number; total: number; calls: number };
  readonly model: string;
  readonly command: string;
}

/** The pull request body: what was built, what was understood, what was validated, and how to steer it. */
export function renderPullRequestBody(c: PullRequestContent): string {
  const list = (items: readonly string[]) => (items.length ? items.map((i) => `- ${escapeInline(i)}`).join('\n') : '- (none)');
  const sections = [
    `## Summary\n\n${escapeInline(c.summary)}`,
    `## Requirements understood\n\n${list(c.requirements)}`,
    ...(c.assumptions.length ? [`## Assumptions\n\n${list(c.assumptions)}`] : []),
    `## Files\n\n${c.files.map((f) => `- ${codeSpan(f.path)} (${f.kind})`).join('\n')}`,
    ...(c.notWritten.length
      ? [`## Not written\n\nThe model proposed these files, but they were not sent to GitHub:\n\n${c.notWritten.map((f) => `- ${codeSpan(f.path)}: ${escapeInline(firstParagraph(f.reason))}`).join('\n')}`]
      : []),
    ...(c.contextFiles.length ? [`<details><summary>Repository files given as context (${c.contextFiles.length})</summary>\n\n${c.contextFiles.map((p) => `- ${codeSpan(p)}`).join('\n')}\n\n</details>`] : []),
    renderMarkdown(c.report, { title: `Validation (attempt ${c.attempts})`, maxLength: 30_000 }),
    `## Token usage\n\n${c.tokens.total} tokens (${c.tokens.prompt} prompt, ${c.tokens.completion} completion) in ${c.tokens.calls} model ${c.tokens.calls === 1 ? 'call' : 'calls'} to ${codeSpan(c.model)}.`,
    [
      '## Commands',
      '',
      `- ${codeSpan(`${c.command} refine <feedback>`)}: a new commit on this branch that follows your feedback (a review or line comment mentioning ${codeSpan(c.command)} works too)`,
      `- ${codeSpan(`${c.command} retry`)}: run the task again · ${codeSpan(`${c.command} cancel`)}: stop it · ${codeSpan(`${c.command} help`)}: all commands`,
      '',
      'Reproduce the validation on a checkout of this branch:',
      '',
      '```sh',
      'npx code4py validate .',
      '```',
    ].join('\n'),
    ...(c.issue !== undefined ? [`Closes #${c.issue}`] : []),
  ];
  return sections.join('\n\n');
}

/** A reason's first paragraph: a failed patch's reason goes on with the whole current file, for the model only. */
function firstParagraph(reason: string): string {
  return reason.split(/\n\s*\n/)[0]!.trim();
}
