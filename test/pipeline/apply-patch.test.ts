import { describe, expect, it } from 'vitest';
import { applyModelPatch } from '../../src/pipeline/generate/apply-patch.js';

const lines = (...l: string[]) => `${l.join('\n')}\n`;

const MODULE = lines('def add(a, b):', '    return a + b', '', '', 'def sub(a, b):', '    return a - b', '', '', 'def mul(a, b):', '    return a * b');

const SUB_CHECKED = lines('def add(a, b):', '    return a + b', '', '', 'def sub(a, b):', '    """a minus b."""', '    return a - b', '', '', 'def mul(a, b):', '    return a * b');

describe('applying a model patch to a file on the branch', () => {
  it('applies a clean git-style patch', () => {
    const patch = lines('--- a/calc.py', '+++ b/calc.py', '@@ -4,4 +4,5 @@', ' ', ' def sub(a, b):', '+    """a minus b."""', '     return a - b', ' ');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({ ok: true, content: SUB_CHECKED });
  });

  it('accepts a diff --git line, no final newline and hunk counts that do not match the body', () => {
    const patch = ['diff --git a/src/calc.py b/src/calc.py', 'index 83db48f..bf269f4 100644', '--- a/src/calc.py', '+++ b/src/calc.py', '@@ -5,9 +5,2 @@', ' def sub(a, b):', '+    """a minus b."""', '     return a - b'].join('\n');
    expect(applyModelPatch('src/calc.py', MODULE, patch)).toEqual({ ok: true, content: SUB_CHECKED });
  });

  it('accepts a bare hunk without file headers or line numbers, even inside a code fence', () => {
    const patch = ['```diff', '@@ @@', ' def sub(a, b):', '+    """a minus b."""', '     return a - b', '```'].join('\n');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({ ok: true, content: SUB_CHECKED });
  });

  it('finds the hunk when its line numbers are off', () => {
    const patch = lines('--- a/calc.py', '+++ b/calc.py', '@@ -1,2 +1,3 @@', ' def sub(a, b):', '+    """a minus b."""', '     return a - b');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({ ok: true, content: SUB_CHECKED });
  });

  it('applies a hunk whose context is wrong by a line or two, within the fuzz factor', () => {
    const misremembered = lines('--- a/calc.py', '+++ b/calc.py', '@@ -1,6 +1,7 @@', ' def add(x, y):', '     return x + y', ' ', ' ', ' def sub(a, b):', '+    """a minus b."""', '     return a - b');
    expect(applyModelPatch('calc.py', MODULE, misremembered)).toEqual({ ok: true, content: SUB_CHECKED });
    expect(applyModelPatch('calc.py', MODULE, misremembered, { fuzzFactor: 0 })).toMatchObject({ ok: false });
  });

  it('applies a patch written with CRLF to an LF file', () => {
    const patch = lines('--- a/calc.py', '+++ b/calc.py', '@@ -5,2 +5,3 @@', ' def sub(a, b):', '+    """a minus b."""', '     return a - b').replace(/\n/g, '\r\n');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({ ok: true, content: SUB_CHECKED });
  });

  it('keeps CRLF line endings of a file that uses them', () => {
    const patch = lines('@@ -5,2 +5,3 @@', ' def sub(a, b):', '+    """a minus b."""', '     return a - b');
    const crlf = (text: string) => text.replace(/\n/g, '\r\n');
    expect(applyModelPatch('calc.py', crlf(MODULE), patch)).toEqual({ ok: true, content: crlf(SUB_CHECKED) });
  });

  it("keeps the file's final newline whatever the patch says about it", () => {
    const patch = ['@@ -9,2 +9,2 @@', ' def mul(a, b):', '-    return a * b', '+    return b * a', '\\ No newline at end of file'].join('\n');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({ ok: true, content: MODULE.replace('a * b', 'b * a') });
    expect(applyModelPatch('calc.py', 'x = 1', lines('@@ -1 +1 @@', '-x = 1', '+x = 2'))).toEqual({ ok: true, content: 'x = 2' });
  });

  it('explains which lines a patch that does not apply expected, and changes nothing', () => {
    const before = MODULE;
    const patch = lines('--- a/calc.py', '+++ b/calc.py', '@@ -5,2 +5,2 @@', ' def div(a, b):', '-    return a / b', '+    return a // b');
    const outcome = applyModelPatch('calc.py', MODULE, patch);
    expect(outcome).toEqual({
      ok: false,
      reason: [
        'hunk 1 of 1 (@@ -5,2 +5,2 @@) does not apply to calc.py: these lines were not found in the file:',
        '    def div(a, b):',
        '        return a / b',
        'Nothing was changed; send a new patch against the current content of calc.py, which follows, or the whole file as content.',
      ].join('\n'),
    });
    expect(MODULE).toBe(before);
  });

  it('applies nothing when the second of two hunks does not fit', () => {
    const patch = lines('--- a/calc.py', '+++ b/calc.py', '@@ -1,2 +1,3 @@', ' def add(a, b):', '+    """a plus b."""', '     return a + b', '@@ -9,2 +10,3 @@', ' def mul(a, b):', '+    """a times b."""', '     return a ** b');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({
      ok: false,
      reason: [
        'hunk 2 of 2 (@@ -9,2 +10,3 @@) does not apply to calc.py: these lines were not found in the file:',
        '    def mul(a, b):',
        '        return a ** b',
        'Nothing was changed; send a new patch against the current content of calc.py, which follows, or the whole file as content.',
      ].join('\n'),
    });
  });

  it('refuses a patch for another file', () => {
    const patch = lines('--- a/other.py', '+++ b/other.py', '@@ -1 +1 @@', '-x = 1', '+x = 2');
    expect(applyModelPatch('calc.py', MODULE, patch)).toEqual({ ok: false, reason: 'the patch given for calc.py is for a/other.py; give each file its own entry with a patch for that file' });
  });

  it('refuses a patch that changes several files', () => {
    const one = (name: string) => [`--- a/${name}`, `+++ b/${name}`, '@@ -1 +1 @@', '-x = 1', '+x = 2'];
    const outcome = applyModelPatch('calc.py', MODULE, lines(...one('calc.py'), ...one('other.py')));
    expect(outcome).toEqual({ ok: false, reason: 'the patch for calc.py changes 2 files; give each file its own entry with a patch for that file only' });
  });

  it('refuses text that is not a unified diff', () => {
    expect(applyModelPatch('calc.py', MODULE, 'replace sub with a checked version')).toMatchObject({ ok: false, reason: expect.stringContaining('has no hunks') });
  });

  describe('files that do not exist yet', () => {
    it('creates a file from a patch against /dev/null', () => {
      const patch = lines('--- /dev/null', '+++ b/pkg/new.py', '@@ -0,0 +1,2 @@', '+def hello():', '+    return "hi"');
      expect(applyModelPatch('pkg/new.py', null, patch)).toEqual({ ok: true, content: lines('def hello():', '    return "hi"') });
    });

    it('creates a file from a bare hunk that only adds lines', () => {
      expect(applyModelPatch('new.py', null, lines('@@ -0,0 +1 @@', '+x = 1'))).toEqual({ ok: true, content: 'x = 1\n' });
    });

    it('refuses a patch with context lines for a file that does not exist', () => {
      expect(applyModelPatch('new.py', null, lines('@@ -1,1 +1,2 @@', ' x = 1', '+y = 2'))).toEqual({
        ok: false,
        reason: 'new.py does not exist on the branch, so a patch with context or removed lines cannot apply; send the whole file as content instead',
      });
    });

    it('refuses to create a file that already exists', () => {
      const patch = lines('--- /dev/null', '+++ b/calc.py', '@@ -0,0 +1 @@', '+x = 1');
      expect(applyModelPatch('calc.py', MODULE, patch)).toMatchObject({ ok: false, reason: expect.stringContaining('already exists on the branch') });
    });
  });

  describe('removing content', () => {
    it('refuses to delete the file', () => {
      const patch = lines('--- a/calc.py', '+++ /dev/null', '@@ -1,2 +0,0 @@', '-def add(a, b):', '-    return a + b');
      expect(applyModelPatch('calc.py', lines('def add(a, b):', '    return a + b'), patch)).toEqual({ ok: false, reason: 'the patch deletes calc.py; Code4Py does not delete files, so leave it out' });
    });

    it('refuses a git deletion', () => {
      const patch = lines('diff --git a/calc.py b/calc.py', 'deleted file mode 100644', 'index 83db48f..0000000', '--- a/calc.py', '+++ /dev/null', '@@ -1 +0,0 @@', '-x = 1');
      expect(applyModelPatch('calc.py', 'x = 1\n', patch)).toMatchObject({ ok: false, reason: expect.stringContaining('does not delete files') });
    });

    it('empties a file only when the patch removes every line', () => {
      expect(applyModelPatch('calc.py', 'x = 1\ny = 2\n', lines('@@ -1,2 +0,0 @@', '-x = 1', '-y = 2'))).toEqual({ ok: true, content: '' });
    });
  });
});
