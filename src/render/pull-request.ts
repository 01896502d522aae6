import type { Report } from '../validate/report.js';
import { firstParagraph, formatDuration, formatTestCounts, plural, truncateChars } from './common.js';
import { changeFigures, countFindings, coverageFigure, findingsFigure } from './figures.js';
import { codeSpan, escapeInline } from './markdown.js';

/** Which package validated, for the command that reproduces it (`npx code4py@0.1.0 validate .`). */
export interface PackageRef {
  readonly name: string;
  readonly version: string;
}

/** What the model calls behind a commit used, and what that cost when the model's price is known. */
export interface ModelUsage {
  readonly tokens: { readonly prompt: number; readonly completion: number; readonly total: number; readonly calls: number };
  readonly model: string;
  /** US dollars; null when the price table does not know the model (tokens are shown instead). */
  readonly costUsd: number | null;
}

/** The validation result of the pull request's head commit. */
export interface ValidationSectionInput {
  readonly report: Report;
  readonly package: PackageRef;
  /** Which generation attempt this was; none for a re-run. */
  readonly attempt?: number;
  /** The check run's page, which lists every finding with its annotation. */
  readonly checkRunUrl?: string | null;
  /** None when no model was called for this commit (a re-run). */
  readonly usage?: ModelUsage;
}

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
  readonly tokens: ModelUsage['tokens'];
  readonly model: string;
  readonly command: string;
  readonly package: PackageRef;
  readonly checkRunUrl?: string | null;
  /** Null or absent: the model's price is not known. */
  readonly costUsd?: number | null;
}

/** The parts of the body that change with each commit, between markers so that they can be replaced. */
export type BodySection = 'files' | 'validation';

// Model-written text is capped so that the body stays far below GitHub's 65 536 characters.
const MAX_SUMMARY = 4_000;
const MAX_ITEM = 500;
const LISTED_FAILURES = 5;

/**
 * The pull request body: what was built, what was understood and assumed, the files, then a validation
 * result of a few lines that links to the check run for the details, and how to steer the bot.
 */
export function renderPullRequestBody(c: PullRequestContent): string {
  const list = (items: readonly string[]) => (items.length ? items.map((i) => `- ${escapeInline(truncateChars(i, MAX_ITEM))}`).join('\n') : '- (none)');
  const sections = [
    `## Summary\n\n${escapeInline(truncateChars(c.summary, MAX_SUMMARY))}`,
    `## Requirements understood\n\n${list(c.requirements)}`,
    ...(c.assumptions.length ? [`## Assumptions\n\n${list(c.assumptions)}`] : []),
    renderFilesSection(c.files, c.notWritten),
    renderValidationSection({
      report: c.report,
      package: c.package,
      attempt: c.attempts,
      ...(c.checkRunUrl !== undefined ? { checkRunUrl: c.checkRunUrl } : {}),
      usage: { tokens: c.tokens, model: c.model, costUsd: c.costUsd ?? null },
    }),
    ...(c.contextFiles.length ? [`<details><summary>Repository files given as context (${c.contextFiles.length})</summary>\n\n${c.contextFiles.map((p) => `- ${codeSpan(p)}`).join('\n')}\n\n</details>`] : []),
    [
      '## Commands',
      '',
      `- ${codeSpan(`${c.command} refine <feedback>`)}: a new commit on this branch that follows your feedback (a review or line comment mentioning ${codeSpan(c.command)} works too)`,
      `- ${codeSpan(`${c.command} retry`)}: run the task again · ${codeSpan(`${c.command} cancel`)}: stop it · ${codeSpan(`${c.command} help`)}: all commands`,
    ].join('\n'),
    ...(c.issue !== undefined ? [`Closes #${c.issue}`] : []),
  ];
  return sections.join('\n\n');
}

/** The files the pull request adds or changes, and those the model proposed that were not written. */
export function renderFilesSection(files: PullRequestContent['files'], notWritten: PullRequestContent['notWritten'] = []): string {
  const parts = [`## Files\n\n${files.length ? files.map((f) => `- ${codeSpan(f.path)} (${f.kind})`).join('\n') : '- (none)'}`];
  if (notWritten.length) {
    parts.push(`## Not written\n\nThe model proposed these files, but they were not sent to GitHub:\n\n${notWritten.map((f) => `- ${codeSpan(f.path)}: ${escapeInline(truncateChars(firstParagraph(f.reason), MAX_ITEM))}`).join('\n')}`);
  }
  return marked('files', parts.join('\n\n'));
}

/**
 * The validation result in a few lines — tests, coverage, findings by severity, what the change itself
 * did (with a base), time and cost — a link to the check run for every finding, the command that
 * reproduces it, and the sandbox and tool versions folded away.
 */
export function renderValidationSection(input: ValidationSectionInput): string {
  const { report } = input;
  const outcome = report.passed ? '✅ passed' : '❌ failed';
  const heading = `## Validation${input.attempt !== undefined ? ` (attempt ${input.attempt})` : ''}: ${outcome}`;
  const counts = countFindings(report);
  const figures = [`**${formatTestCounts(report.tests, 'headline')}**`, coverageFigure(report), `validated in ${formatDuration(report.durationMs)}`].filter((f) => f !== null);
  const lines = [
    figures.join(' · '),
    `findings: ${findingsFigure(counts, { withInfo: true }) ?? 'none'}${counts.preExisting > 0 ? ` (and ${plural(counts.preExisting, 'pre-existing finding')} from the base branch, not counted)` : ''}`,
    ...changeFigures(report, codeSpan),
    ...failedTestsLine(report),
    ...(input.usage ? [costLine(input.usage)] : []),
  ];
  const link = input.checkRunUrl ? `Every finding, with its place in the code: [the Code4Py validation check](${input.checkRunUrl}).` : 'Every finding, with its place in the code, is in the Code4Py validation check of this commit.';
  const environment = [
    '<details><summary>Sandbox and tool versions</summary>',
    '',
    `- sandbox: ${codeSpan(report.sandbox || 'unknown')}`,
    ...(input.usage ? [`- model: ${codeSpan(input.usage.model)}`] : []),
    `- validated by ${codeSpan(`${input.package.name} ${input.package.version}`)}`,
    '',
    '</details>',
  ].join('\n');
  return marked('validation', [heading, lines.map((l) => `- ${l}`).join('\n'), link, `Reproduce it on a checkout of this branch: ${codeSpan(reproduceCommand(input.package, report.base))}`, environment].join('\n\n'));
}

/** The command a reader of the pull request runs to validate as the bot did: this package's exact version, and the base when the validation was change-scoped. */
export function reproduceCommand(pkg: PackageRef, base: string | undefined): string {
  // A base that is no commit (a local working tree, identified by its contents) cannot be named.
  const commit = base !== undefined && /^[0-9a-f]{40,64}$/.test(base) ? base : undefined;
  return `npx ${pkg.name}@${pkg.version} validate .${commit !== undefined ? ` --base ${commit}` : ''}`;
}

/** `$0.0042 (12,345 tokens in 3 model calls)`, or the tokens alone when the price is not known. */
export function costLine(usage: ModelUsage): string {
  const total = usage.tokens.total;
  const tokens = `${total.toLocaleString('en-US')} ${total === 1 ? 'token' : 'tokens'} in ${plural(usage.tokens.calls, 'model call')}`;
  return usage.costUsd === null ? `cost: ${tokens} (no price known for ${codeSpan(usage.model)})` : `cost: ${formatUsd(usage.costUsd)} (${tokens})`;
}

/** Two significant digits below a cent, cents above. */
export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  return usd < 0.01 ? `$${Number(usd.toPrecision(2))}` : `$${usd.toFixed(2)}`;
}

/**
 * The body with one section replaced by its new text: the validation of a new commit, the files after a
 * refinement. A body without the section (edited by hand) gets it appended, so the result is never stale.
 */
export function replaceBodySection(body: string, name: BodySection, text: string): string {
  const start = body.indexOf(startMarker(name));
  const end = body.indexOf(endMarker(name), start);
  if (start === -1 || end === -1) return `${body.replace(/\s+$/, '')}\n\n${text}`;
  return `${body.slice(0, start)}${text}${body.slice(end + endMarker(name).length)}`;
}

function failedTestsLine(report: Report): string[] {
  // A change-scoped report says which failures are the change's in its own lines.
  if (report.base !== undefined) return [];
  const failed = report.tests.cases.filter((c) => c.outcome === 'failed' || c.outcome === 'error').map((c) => c.id);
  if (failed.length === 0) return [];
  const more = failed.length > LISTED_FAILURES ? ` and ${failed.length - LISTED_FAILURES} more` : '';
  return [`failing: ${failed.slice(0, LISTED_FAILURES).map(codeSpan).join(', ')}${more}`];
}

const startMarker = (name: BodySection) => `<!-- code4py:${name} -->`;
const endMarker = (name: BodySection) => `<!-- /code4py:${name} -->`;

function marked(name: BodySection, text: string): string {
  // Blank lines around the markers keep them HTML blocks of their own, whatever the text ends with.
  return `${startMarker(name)}\n\n${text}\n\n${endMarker(name)}`;
}

