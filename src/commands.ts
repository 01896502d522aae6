import type { Permission } from './config/repo-config.js';

export const DEFAULT_COMMAND = '/code4py';

/** A comment's command. Text after the command word belongs to the user and is kept verbatim (trimmed). */
export type Command =
  | { readonly kind: 'generate'; readonly instructions: string }
  | { readonly kind: 'refine'; readonly feedback: string }
  | { readonly kind: 'retry' }
  | { readonly kind: 'cancel' }
  /** `problem` is set when the user meant another command but it cannot run as written. */
  | { readonly kind: 'help'; readonly problem?: string }
  /** The word after the command that names no command: the user's text, at most 50 characters, backticks made `'`. */
  | { readonly kind: 'unknown'; readonly word: string };

export type CommandKind = Command['kind'];

/**
 * The first command in a comment, or null. The command word (case-insensitive) must start a line, with at
 * most three spaces before it (as markdown allows for a paragraph) and a space or the end of the line after
 * it; lines in fenced code blocks, block quotes and HTML comments are not commands, and nor is inline code.
 */
export function parseCommand(body: string, command: string = DEFAULT_COMMAND): Command | null {
  const lines = liveLines(body);
  const start = new RegExp(`^ {0,3}${escapeRegExp(command)}(?=\\s|$)`, 'i');
  for (const [index, line] of lines.entries()) {
    if (!line.live) continue;
    const match = start.exec(line.text);
    if (!match) continue;
    const after = [line.text.slice(match[0].length), ...lines.slice(index + 1).map((l) => l.text)].join('\n');
    return commandFrom(after);
  }
  return null;
}

/**
 * Whether the command word appears anywhere a reader sees it as written (not in code, quotes or HTML
 * comments): a review or line comment that mentions `/code4py` asks for a refinement.
 */
export function mentionsCommand(body: string, command: string = DEFAULT_COMMAND): boolean {
  const mention = new RegExp(`(^|[\\s(])${escapeRegExp(command)}(?![\\w-])`, 'i');
  return liveLines(body).some((line) => line.live && !/^ {0,3}>/.test(line.text) && mention.test(stripInline(line.text)));
}

function commandFrom(after: string): Command {
  const rest = after.replace(/^[ \t]+/, '');
  const token = /^\S+/.exec(rest)?.[0];
  if (token === undefined || rest.startsWith('\n')) return { kind: 'generate', instructions: rest.trim() };
  const word = token.replace(/[.,;:!?]+$/, '');
  const text = rest.slice(token.length).trim();
  switch (word.toLowerCase()) {
    case 'generate':
      return { kind: 'generate', instructions: text };
    case 'refine':
      return text ? { kind: 'refine', feedback: text } : { kind: 'help', problem: 'refine needs your feedback after it, e.g. `refine handle empty input`.' };
    case 'retry':
      return { kind: 'retry' };
    case 'cancel':
      return { kind: 'cancel' };
    case 'help':
      return { kind: 'help' };
    default:
      // Shown back in inline code: a backtick would end it.
      return { kind: 'unknown', word: (word || token).replaceAll('`', "'").slice(0, 50) };
  }
}

interface Line {
  readonly text: string;
  /** False when the line starts inside a fenced code block or an HTML comment, or is a fence itself. */
  readonly live: boolean;
}

/** Splits a markdown body into lines, marking those a reader sees as text. */
function liveLines(body: string): Line[] {
  const lines: Line[] = [];
  let fence: { char: string; length: number } | null = null;
  let inComment = false;
  for (const text of body.replace(/\r\n?/g, '\n').split('\n')) {
    if (inComment) {
      lines.push({ text, live: false });
      inComment = commentOpenAfter(text, true);
      continue;
    }
    if (fence) {
      const close = /^ {0,3}(`+|~+)[ \t]*$/.exec(text);
      if (close?.[1] && close[1][0] === fence.char && close[1].length >= fence.length) fence = null;
      lines.push({ text, live: false });
      continue;
    }
    const open = /^ {0,3}(`{3,}|~{3,})/.exec(text);
    if (open?.[1]) {
      fence = { char: open[1][0]!, length: open[1].length };
      lines.push({ text, live: false });
      continue;
    }
    lines.push({ text, live: true });
    inComment = commentOpenAfter(text, false);
  }
  return lines;
}

/** Whether an HTML comment is open at the end of `text`, given whether one was open at its start. */
function commentOpenAfter(text: string, open: boolean): boolean {
  let inside = open;
  let position = 0;
  for (;;) {
    const next = text.indexOf(inside ? '-->' : '<!--', position);
    if (next === -1) return inside;
    position = next + (inside ? 3 : 4);
    inside = !inside;
  }
}

/** The line without inline code spans and one-line HTML comments. */
function stripInline(text: string): string {
  return text.replace(/(`+)[^`]*?\1/g, ' ').replace(/<!--[\s\S]*?-->/g, ' ');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export interface HelpSettings {
  readonly command: string;
  readonly label: string;
  readonly permission: Permission;
}

/** The command list, as the answer to `help` and to a command Code4Py does not know. */
export function helpText(settings: HelpSettings = { command: DEFAULT_COMMAND, label: 'code4py', permission: 'write' }, problem?: string): string {
  const c = settings.command;
  return [
    ...(problem ? [problem, ''] : []),
    `**Code4Py commands** — write one at the start of a line in a comment:`,
    '',
    '| command | where | what it does |',
    '| --- | --- | --- |',
    `| \`${c}\` or \`${c} generate [instructions]\` | issue | Writes the code and its tests as a pull request; any text after \`generate\` is added to the task. Adding the label \`${settings.label}\` does the same. |`,
    `| \`${c} refine <feedback>\` | Code4Py's pull request | Changes the code as your feedback says (several lines are fine) and pushes a new commit; a review or line comment that mentions \`${c}\` does the same. |`,
    `| \`${c} retry\` | issue or pull request | Queues the last task again, e.g. after a failure. |`,
    `| \`${c} cancel\` | issue or pull request | Drops the queued task, or stops the running one. |`,
    `| \`${c} help\` | anywhere | Shows this list. |`,
    '',
    `Only people with \`${settings.permission}\` access (or more) to this repository can start work. Commands in quotes or code blocks are ignored.`,
  ].join('\n');
}
