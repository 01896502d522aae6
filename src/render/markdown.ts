import { sortFindings, type Finding, type Report, type Severity, type StageStatus } from '../validate/report.js';
import {
  failedTestDetails, fileOf, formatCoverage, formatDuration, formatTestCounts, normaliseNewlines, plural,
  splitReport, stripControl, truncateChars, truncateMiddle, type FailedTest,
} from './common.js';
import { changeFigures, countFindings, isPreExisting } from './figures.js';

export interface MarkdownOptions {
  /** Findings listed at most; the rest are counted in a closing note. Default 100. */
  maxFindings?: number;
  /** The headline's words, e.g. the check run's name. Default `Code4Py validation`. */
  title?: string;
  /** Characters the whole text may take. GitHub rejects a check run summary over 65535. */
  maxLength?: number;
}

export const DEFAULT_MAX_LENGTH = 60_000;
const DEFAULT_MAX_FINDINGS = 100;
// Caps per piece of report text, so that the part never truncated (headline and stage table) stays small
// and one huge traceback cannot crowd every other finding out.
const MAX_TITLE = 200;
const MAX_SUMMARY = 300;
const MAX_MESSAGE = 1_000;
const MAX_DETAILS = 5_000;

const STATUS_EMOJI: Record<StageStatus, string> = {
  passed: '✅', failed: '❌', warning: '⚠️', skipped: '⏭️', error: '💥',
};
const SEVERITY_EMOJI: Record<Severity, string> = { error: '❌', warning: '⚠️', info: 'ℹ️' };
const SEVERITY_RANK: Record<Severity, number> = { error: 1, warning: 2, info: 3 };

/** GitHub-flavoured markdown of a report, for a pull request body or a check run summary. */
export function renderMarkdown(report: Report, options: MarkdownOptions = {}): string {
  const maxLength = options.maxLength ?? DEFAULT_MAX_LENGTH;
  const head = renderHead(report, options.title ?? 'Code4Py validation');
  const sections = buildSections(report);
  const text = fitSections(head, sections, maxLength, options.maxFindings ?? DEFAULT_MAX_FINDINGS);
  // Reached only with a maxLength smaller than the (capped) headline and stage table.
  return text.length <= maxLength ? text : truncateChars(text, maxLength);
}

function renderHead(report: Report, title: string): string {
  const outcome = report.passed ? `✅ ${title} passed` : `❌ ${title} failed`;
  const facts = [`**${formatTestCounts(report.tests)}**`];
  const coverage = formatCoverage(report.coverage);
  if (coverage !== null) facts.push(`coverage ${coverage}`);
  facts.push(formatDuration(report.durationMs));
  if (report.sandbox !== '') facts.push(`sandbox ${codeSpan(report.sandbox)}`);
  const blocks = [`## ${escapeInline(truncateChars(outcome, MAX_TITLE))}`, facts.join(' · ')];
  // A change-scoped validation: what the change itself did, one line each, and what was there before it.
  const change = changeFigures(report, codeSpan);
  const { preExisting } = countFindings(report);
  if (preExisting > 0) change.push(`${plural(preExisting, 'finding')} ${preExisting === 1 ? 'was' : 'were'} there on the base branch already (marked pre-existing; not counted)`);
  if (change.length > 0) blocks.push(change.map((line) => `- ${line}`).join('\n'));
  if (report.stages.length > 0) {
    const rows = report.stages.map(
      (s) => `| ${s.name} | ${STATUS_EMOJI[s.status]} ${s.status} | ${escapeInline(truncateChars(s.summary, MAX_SUMMARY))} |`,
    );
    blocks.push(['| Stage | Status | Summary |', '| --- | --- | --- |', ...rows].join('\n'));
  }
  return blocks.join('\n\n');
}

interface Item { readonly text: string; readonly rank: number; readonly isFinding: boolean }
interface Group { readonly heading: string | null; readonly items: readonly Item[] }
interface Section { readonly heading: string; readonly groups: readonly Group[] }

function buildSections(report: Report): Section[] {
  const { failedTests, stages } = splitReport(report);
  const sections: Section[] = [];
  if (failedTests.length > 0) {
    const items = failedTests.map((t) => ({ text: renderFailedTest(t), rank: 0, isFinding: false }));
    sections.push({ heading: '### Failed tests', groups: [{ heading: null, items }] });
  }
  const groups = stages
    .filter((s) => s.findings.length > 0)
    .map((s) => ({
      heading: `#### ${s.stage} (${s.findings.length})`,
      items: sortFindings(s.findings).map((f) => ({ text: renderFinding(f), rank: SEVERITY_RANK[f.severity], isFinding: true })),
    }));
  if (groups.length > 0) sections.push({ heading: '### Findings', groups });
  return sections;
}

function renderFailedTest(failed: FailedTest): string {
  const { testCase } = failed;
  const message = stripControl(testCase.message ?? '').trim();
  const [firstLine = ''] = message.split('\n');
  const summary = firstLine === '' ? '' : ` — ${escapeInline(truncateChars(firstLine, MAX_MESSAGE))}`;
  const line = `- ❌ ${codeSpan(testCase.id)} ${testCase.outcome === 'error' ? 'error' : 'failed'}${summary}`;
  const details = failedTestDetails(failed) ?? (message.includes('\n') ? message : undefined);
  return details === undefined ? line : `${line}\n${detailsBlock(details)}`;
}

function renderFinding(finding: Finding): string {
  const path = fileOf(finding);
  const parts = [`- ${SEVERITY_EMOJI[finding.severity]}`];
  if (path !== undefined) parts.push(codeSpan(finding.line > 0 ? `${path}:${finding.line}` : path));
  if (finding.rule !== '') parts.push(codeSpan(finding.rule));
  const message = stripControl(finding.message).trim();
  if (message !== '') parts.push(`— ${escapeInline(truncateChars(message, MAX_MESSAGE))}`);
  if (isPreExisting(finding)) parts.push('(pre-existing)');
  const line = parts.join(' ');
  return finding.details === undefined || finding.details.trim() === '' ? line : `${line}\n${detailsBlock(finding.details)}`;
}

/** Inside a list item: every line indented to the item's content column, or the list would end. */
function detailsBlock(details: string): string {
  const body = truncateMiddle(stripControl(details).replace(/^\n+|\s+$/g, ''), MAX_DETAILS);
  const fence = '`'.repeat(Math.max(3, longestRun(body, '`') + 1));
  const lines = ['<details><summary>Details</summary>', '', `${fence}text`, ...body.split('\n'), fence, '', '</details>'];
  return lines.map((l) => (l === '' ? '' : `  ${l}`)).join('\n');
}

/**
 * Chooses what fits: failed tests first, then findings worst first, stopping at the first that does not
 * fit so that nothing less severe is shown in place of something more severe. The chosen items keep
 * their display order (by stage, then `sortFindings`).
 */
function fitSections(head: string, sections: readonly Section[], maxLength: number, maxFindings: number): string {
  const queue = sections.flatMap((section, s) =>
    section.groups.flatMap((group, g) => group.items.map((item) => ({ item, s, g }))),
  ).sort((a, b) => a.item.rank - b.item.rank);
  const total = { tests: 0, findings: 0 };
  for (const { item } of queue) {
    if (item.isFinding) total.findings++;
    else total.tests++;
  }

  const chosen = new Set<Item>();
  const openGroups = new Set<string>();
  const openSections = new Set<number>();
  // Upper bounds of what each piece adds, separators included; `render` below is then checked anyway.
  let length = head.length + 1 + omittedNote(total.tests, total.findings).length + 2;
  let findings = 0;
  for (const { item, s, g } of queue) {
    if (item.isFinding && findings >= maxFindings) break;
    const section = sections[s]!;
    let cost = item.text.length + 1;
    if (!openSections.has(s)) cost += section.heading.length + 6;
    if (!openGroups.has(`${s}/${g}`)) cost += (section.groups[g]!.heading?.length ?? 0) + 4;
    if (length + cost > maxLength) break;
    length += cost;
    chosen.add(item);
    openSections.add(s);
    openGroups.add(`${s}/${g}`);
    if (item.isFinding) findings++;
  }

  const render = (): string => {
    const shown = { tests: 0, findings: 0 };
    const blocks = [head];
    for (const section of sections) {
      const groups = section.groups
        .map((group) => ({ heading: group.heading, items: group.items.filter((i) => chosen.has(i)) }))
        .filter((group) => group.items.length > 0);
      if (groups.length === 0) continue;
      const rendered = groups.map((group) => {
        for (const i of group.items) {
          if (i.isFinding) shown.findings++;
          else shown.tests++;
        }
        const list = group.items.map((i) => i.text).join('\n');
        return group.heading === null ? list : `${group.heading}\n\n${list}`;
      });
      blocks.push(`${section.heading}\n\n${rendered.join('\n\n')}`);
    }
    const note = omittedNote(total.tests - shown.tests, total.findings - shown.findings);
    if (note !== '') blocks.push(note);
    return `${blocks.join('\n\n')}\n`;
  };
  let text = render();
  const order = queue.map((q) => q.item).filter((i) => chosen.has(i));
  while (text.length > maxLength && order.length > 0) {
    chosen.delete(order.pop()!);
    text = render();
  }
  return text;
}

function omittedNote(tests: number, findings: number): string {
  const parts = [];
  if (tests > 0) parts.push(`${plural(tests, 'more failed test')}`);
  if (findings > 0) parts.push(`${plural(findings, 'more finding')}`);
  return parts.length === 0 ? '' : `… and ${parts.join(' and ')}`;
}

const HTML_ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * Report text (model-written messages, file names) as inert inline markdown: no HTML, no emphasis, links,
 * table breaks, math or line breaks of its own. `@` gets a zero-width space after it, as Renovate does,
 * so that text in a pull request body cannot notify a user or team.
 */
export function escapeInline(text: string): string {
  return normaliseNewlines(text)
    .replace(/[&<>]/g, (c) => HTML_ENTITIES[c]!)
    .replace(/[\\`*_[\]|~$]/g, '\\$&')
    .replace(/@/g, '@&#8203;')
    .replace(/\n/g, '<br>');
}

/** A code span that survives backticks in its text (the delimiter is longer than any run inside). */
export function codeSpan(text: string): string {
  const flat = normaliseNewlines(text).replace(/\n/g, ' ');
  const ticks = '`'.repeat(longestRun(flat, '`') + 1);
  // CommonMark strips one space on each side, so pad when the text itself starts or ends with one.
  const pad = /^[` ]|[` ]$/.test(flat) ? ' ' : '';
  return `${ticks}${pad}${flat}${pad}${ticks}`;
}

function longestRun(text: string, char: string): number {
  let longest = 0;
  let run = 0;
  for (const c of text) {
    run = c === char ? run + 1 : 0;
    if (run > longest) longest = run;
  }
  return longest;
}
