import { describe, expect, it } from 'vitest';
import { helpText, mentionsCommand, parseCommand } from '../src/commands.js';

describe('comment commands', () => {
  describe('generate', () => {
    it.each([
      ['/code4py', ''],
      ['/code4py generate', ''],
      ['/code4py generate use numpy', 'use numpy'],
      ['/code4py generate:  use numpy  ', 'use numpy'],
      ['/code4py   generate\tuse numpy', 'use numpy'],
      ['/code4py generate use numpy\n\nand keep it under 50 lines', 'use numpy\n\nand keep it under 50 lines'],
      ['/code4py\nAlso handle negative numbers.', 'Also handle negative numbers.'],
      ['/code4py\r\ngenerate\r\n', 'generate'],
    ])('%j → generate with %j', (body, instructions) => {
      expect(parseCommand(body)).toEqual({ kind: 'generate', instructions });
    });
  });

  describe('refine', () => {
    it('keeps multi-line feedback verbatim, code blocks and quotes included', () => {
      const feedback = 'rename `foo` to `bar`\n\n> the old name\n\n```python\ndef bar(): ...\n```\n- and add a docstring';
      expect(parseCommand(`/code4py refine ${feedback}\n\n`)).toEqual({ kind: 'refine', feedback });
    });

    it('takes feedback that starts on the next line', () => {
      expect(parseCommand('/code4py refine\nhandle empty input')).toEqual({ kind: 'refine', feedback: 'handle empty input' });
    });

    it('answers with help when the feedback is missing', () => {
      expect(parseCommand('/code4py refine   ')).toEqual({ kind: 'help', problem: 'refine needs your feedback after it, e.g. `refine handle empty input`.' });
    });
  });

  it.each([
    ['/code4py retry', { kind: 'retry' }],
    ['/code4py retry please', { kind: 'retry' }],
    ['/code4py retry.', { kind: 'retry' }],
    ['/code4py cancel', { kind: 'cancel' }],
    ['/code4py cancel, wrong issue', { kind: 'cancel' }],
    ['/code4py help', { kind: 'help' }],
    ['/code4py help!', { kind: 'help' }],
  ])('%j → %j', (body, command) => {
    expect(parseCommand(body)).toEqual(command);
  });

  describe('an unknown word', () => {
    it.each([
      ['/code4py deploy now', 'deploy'],
      ['/code4py cancelled', 'cancelled'],
      ['/code4py please add tests', 'please'],
      ['/code4py 42', '42'],
      ['/code4py !!!', '!!!'],
      ['/code4py `rm`', "'rm'"],
    ])('%j → unknown %j', (body, word) => {
      expect(parseCommand(body)).toEqual({ kind: 'unknown', word });
    });

    it('keeps at most 50 characters of it', () => {
      expect(parseCommand(`/code4py ${'x'.repeat(80)}`)).toEqual({ kind: 'unknown', word: 'x'.repeat(50) });
    });
  });

  describe('the command word', () => {
    it.each(['/Code4Py RETRY', '/CODE4PY retry', '/code4py Retry'])('is case-insensitive: %j', (body) => {
      expect(parseCommand(body)).toEqual({ kind: 'retry' });
    });

    it.each(['/code4pyfoo', '/code4py-bot retry', '/code4py:retry', 'code4py retry', '//code4py retry', '/code retry'])('must be the whole word: %j is no command', (body) => {
      expect(parseCommand(body)).toBeNull();
    });

    it('is the configured one', () => {
      expect(parseCommand('/bot refine shorter', '/bot')).toEqual({ kind: 'refine', feedback: 'shorter' });
      expect(parseCommand('/code4py retry', '/bot')).toBeNull();
      expect(parseCommand('/my.bot retry', '/my.bot')).toEqual({ kind: 'retry' });
      expect(parseCommand('/myxbot retry', '/my.bot')).toBeNull();
    });
  });

  describe('where a command counts', () => {
    it('on any line, the first command winning', () => {
      expect(parseCommand('Thanks for the PR!\n\n/code4py refine use pathlib\n/code4py cancel')).toEqual({ kind: 'refine', feedback: 'use pathlib\n/code4py cancel' });
      expect(parseCommand('Looks wrong.\n/code4py cancel\n\n/code4py retry')).toEqual({ kind: 'cancel' });
    });

    it('with up to three spaces before it', () => {
      expect(parseCommand('   /code4py retry')).toEqual({ kind: 'retry' });
      expect(parseCommand('    /code4py retry')).toBeNull();
      expect(parseCommand('\t/code4py retry')).toBeNull();
    });

    it.each([
      ['mid-sentence', 'please run /code4py retry'],
      ['in a quote', '> /code4py retry'],
      ['in an indented quote', '  > /code4py retry'],
      ['in a nested quote', '> > /code4py cancel'],
      ['in inline code', '`/code4py retry` retries'],
      ['in a list item', '- /code4py retry'],
      ['in a fenced block', 'Run:\n```\n/code4py retry\n```'],
      ['in a fenced block with an info string', '```markdown\n/code4py retry\n```'],
      ['in a tilde fence', '~~~\n/code4py retry\n~~~'],
      ['in a fence closed by a longer one', '````\n```\n/code4py retry\n``````'],
      ['in an unclosed fence', '```\n/code4py retry'],
      ['in an HTML comment', '<!--\n/code4py retry\n-->'],
      ['in an HTML comment opened mid-line', 'hello <!-- hidden\n/code4py retry -->'],
      ['in an empty body', ''],
    ])('not %s', (_where, body) => {
      expect(parseCommand(body)).toBeNull();
    });

    it('after a fence or a comment closes', () => {
      expect(parseCommand('```\n/code4py cancel\n```\n/code4py retry')).toEqual({ kind: 'retry' });
      expect(parseCommand('~~~\n```\n~~~\n/code4py retry')).toEqual({ kind: 'retry' });
      expect(parseCommand('<!-- a --> <!-- b\n-->\n/code4py retry')).toEqual({ kind: 'retry' });
      expect(parseCommand('<!-- a\n--> <!-- b\n/code4py cancel\n-->\n/code4py retry')).toEqual({ kind: 'retry' });
    });

    it('not when a fence line is only indented text inside a fence of the other kind', () => {
      expect(parseCommand('```\n~~~\n/code4py retry\n~~~\n```')).toBeNull();
    });
  });

  describe('mentions (reviews and line comments)', () => {
    it.each([
      ['/code4py', true],
      ['please fix this, /code4py', true],
      ['(/code4py) make it faster', true],
      ['Fix this. /CODE4PY', true],
      ['`/code4py` is neat', false],
      ['> /code4py do it', false],
      ['```\n/code4py\n```', false],
      ['<!-- /code4py -->', false],
      ['see https://example.com/code4py', false],
      ['/code4pyfoo', false],
      ['', false],
    ])('%j → %s', (body, mentioned) => {
      expect(mentionsCommand(body)).toBe(mentioned);
    });

    it('uses the configured command word', () => {
      expect(mentionsCommand('ping /bot', '/bot')).toBe(true);
      expect(mentionsCommand('ping /code4py', '/bot')).toBe(false);
    });
  });

  describe('help text', () => {
    it('lists every command with the configured word, label and permission', () => {
      expect(helpText({ command: '/bot', label: 'ai', permission: 'maintain' })).toMatchInlineSnapshot(`
        "**Code4Py commands** — write one at the start of a line in a comment:

        | command | where | what it does |
        | --- | --- | --- |
        | \`/bot\` or \`/bot generate [instructions]\` | issue | Writes the code and its tests as a pull request; any text after \`generate\` is added to the task. Adding the label \`ai\` does the same. |
        | \`/bot refine <feedback>\` | Code4Py's pull request | Changes the code as your feedback says (several lines are fine) and pushes a new commit; a review or line comment that mentions \`/bot\` does the same. |
        | \`/bot retry\` | issue or pull request | Queues the last task again, e.g. after a failure. |
        | \`/bot cancel\` | issue or pull request | Drops the queued task, or stops the running one. |
        | \`/bot help\` | anywhere | Shows this list. |

        Only people with \`maintain\` access (or more) to this repository can start work. Commands in quotes or code blocks are ignored."
      `);
    });

    it('starts with the problem when there is one', () => {
      expect(helpText(undefined, '`/code4py deploy` is not a command.')).toMatch(/^`\/code4py deploy` is not a command\.\n\n\*\*Code4Py commands\*\*/);
    });

    it('holds no command itself, so a bot reading it back does nothing', () => {
      expect(parseCommand(helpText())).toBeNull();
    });
  });
});
