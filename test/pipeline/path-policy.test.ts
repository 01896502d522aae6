import { describe, expect, it } from 'vitest';
import { defaultRepoConfig } from '../../src/config/repo-config.js';
import { applyPathPolicy, normalisePath, type PathSettings, type ProposedFile } from '../../src/pipeline/generate/path-policy.js';

const defaults: PathSettings = defaultRepoConfig().paths;
const file = (path: string, content: string | null = 'x = 1\n', patch: string | null = null): ProposedFile => ({ path, content, patch });

/** The reason one file is refused with the default settings, or 'accepted'. */
function verdict(path: string, settings: PathSettings = defaults, blocked: ReadonlySet<string> = new Set()): string {
  const { accepted, rejected } = applyPathPolicy([file(path)], settings, blocked);
  return accepted.length === 1 ? 'accepted' : rejected[0]!.reason;
}

describe('path policy', () => {
  it('writes Python files and requirement files anywhere by default', () => {
    const files = [file('solver.py'), file('src/pkg/mod.py'), file('tests/test_mod.py'), file('requirements.txt'), file('requirements-dev.txt')];
    expect(applyPathPolicy(files, defaults)).toEqual({ accepted: files, rejected: [] });
  });

  it('keeps each file object as given when its path needs no change', () => {
    const given = file('a.py');
    expect(applyPathPolicy([given], defaults).accepted[0]).toBe(given);
  });

  describe('refuses paths that are never written, whatever the configuration says', () => {
    const everything: PathSettings = { ...defaults, allow: ['**'] };
    it.each([
      ['/etc/passwd.py', 'is absolute; paths must be relative to the repository root'],
      ['C:/x.py', 'is absolute; paths must be relative to the repository root'],
      ['../outside.py', 'contains "..", which would leave its folder; paths must stay inside the repository'],
      ['src/../../outside.py', 'contains "..", which would leave its folder; paths must stay inside the repository'],
      ['src/..', 'contains "..", which would leave its folder; paths must stay inside the repository'],
      ['src//a.py', 'has an empty folder name (two slashes in a row)'],
      ['src/', 'names a folder, not a file'],
      ['src/.', 'names a folder, not a file'],
      ['.', 'names a folder, not a file'],
      ['', 'is empty'],
      ['src\\a.py', 'contains a backslash; use forward slashes between folders'],
      ['a\0.py', 'contains control or invisible characters'],
      ['a\n.py', 'contains control or invisible characters'],
      ['a\u200b.py', 'contains control or invisible characters'],
      ['\u200c.git/config.py', 'contains control or invisible characters'],
      ['a\u202egnp.py', 'contains control or invisible characters'],
      ['.github/workflows/ci.yml', 'is in .github/, which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['.GitHub/workflows/ci.py', 'is in .github/, which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['.git/hooks/pre-commit.py', 'is in .git/, which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['src/.GIT/config.py', 'is in .git/, which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['.env', 'is in .env (a dot-file or dot-folder), which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['pkg/.hidden/mod.py', 'is in .hidden (a dot-file or dot-folder), which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['.pre-commit.py', 'is in .pre-commit.py (a dot-file or dot-folder), which Code4Py never writes: dot-files and dot-folders hold workflows, tool settings and secrets'],
      ['GIT~1/config.py', 'contains GIT~1, which Windows reads as .git'],
      [`${'a'.repeat(256)}.py`, 'has a file or folder name longer than 255 bytes'],
      [`${'a/'.repeat(600)}b.py`, 'is longer than 1024 characters'],
    ])('%j: %s', (path, reason) => {
      expect(verdict(path, everything)).toBe(reason);
    });
  });

  describe('accepts, at the edges of what is refused', () => {
    const everything: PathSettings = { ...defaults, allow: ['**'] };
    it.each([
      ['a path of exactly 1024 characters', `${`${'x'.repeat(99)}/`.repeat(10)}${'y'.repeat(21)}.py`],
      ['a name of exactly 255 bytes', `${'é'.repeat(125)}aa.py`],
      ['a colon after the start', 'notes/draft:v1.py'],
      ['a name that only contains git~1', 'mygit~1/x.py'],
      ['a name that only starts like git~1', 'git~1x/x.py'],
      ['a name with a dot inside', 'pkg/mod.v2.py'],
    ])('%s', (_what, path) => {
      expect(verdict(path, everything)).toBe('accepted');
    });

    it('counts a name in UTF-8 bytes', () => {
      expect(verdict(`${'é'.repeat(126)}a.py`, everything)).toBe('has a file or folder name longer than 255 bytes');
    });

    it('reads any git~N as .git, whatever the number', () => {
      expect(verdict('src/Git~12/x.py', everything)).toBe('contains Git~12, which Windows reads as .git');
    });
  });

  describe('normalises', () => {
    it.each([
      ['./a.py', 'a.py'],
      ['././src/a.py', 'src/a.py'],
      ['src/./pkg/a.py', 'src/pkg/a.py'],
      ['src/pkg/a.py', 'src/pkg/a.py'],
    ])('%j to %j', (raw, path) => {
      expect(normalisePath(raw)).toEqual({ ok: true, path });
    });

    it('and writes the file under its normalised path, reporting refusals under the path the model gave', () => {
      const { accepted, rejected } = applyPathPolicy([file('./a.py', 'one'), file('../b.py')], defaults);
      expect(accepted).toEqual([file('a.py', 'one')]);
      expect(rejected.map((r) => r.path)).toEqual(['../b.py']);
    });
  });

  describe('symbolic links and submodules of the repository', () => {
    const blocked = new Set(['docs/link.py', 'vendor/lib', 'Shared']);
    it.each([
      ['docs/link.py', 'is a symbolic link or submodule in the repository; Code4Py never writes onto one'],
      ['vendor/lib/mod.py', 'is inside vendor/lib, a symbolic link or submodule in the repository; Code4Py never writes through one'],
      ['vendor/lib/deep/er/mod.py', 'is inside vendor/lib, a symbolic link or submodule in the repository; Code4Py never writes through one'],
      ['VENDOR/Lib/mod.py', 'is inside vendor/lib, a symbolic link or submodule in the repository; Code4Py never writes through one'],
      ['./shared/x.py', 'is inside shared, a symbolic link or submodule in the repository; Code4Py never writes through one'],
      ['vendor/library.py', 'accepted'],
      ['docs/link.py.py', 'accepted'],
    ])('%j: %s', (path, reason) => {
      expect(verdict(path, defaults, blocked)).toBe(reason);
    });
  });

  describe('the configured globs', () => {
    const settings: PathSettings = { ...defaults, allow: ['src/**/*.py', 'tests/*.py'], deny: ['src/legacy/**', '**/conftest.py'] };
    it.each([
      ['src/pkg/mod.py', 'accepted'],
      ['src/mod.py', 'accepted'],
      ['tests/test_mod.py', 'accepted'],
      ['tests/unit/test_mod.py', 'is outside the allowed paths (paths.allow: src/**/*.py, tests/*.py)'],
      ['mod.py', 'is outside the allowed paths (paths.allow: src/**/*.py, tests/*.py)'],
      ['src/pkg/data.json', 'is outside the allowed paths (paths.allow: src/**/*.py, tests/*.py)'],
      ['src/legacy/old.py', 'matches the denied paths (paths.deny: src/legacy/**, **/conftest.py)'],
      ['tests/conftest.py', 'matches the denied paths (paths.deny: src/legacy/**, **/conftest.py)'],
    ])('%j: %s', (path, reason) => {
      expect(verdict(path, settings)).toBe(reason);
    });

    it('match case-sensitively, as Git does', () => {
      expect(verdict('SRC/mod.py', settings)).toBe('is outside the allowed paths (paths.allow: src/**/*.py, tests/*.py)');
      expect(verdict('mod.PY')).toBe('is outside the allowed paths (paths.allow: **/*.py, requirements*.txt)');
    });

    it('deny nothing when the list is empty', () => {
      expect(verdict('src/legacy/old.py', { ...settings, deny: [] })).toBe('accepted');
    });

    it('never match dot-folders, even with an allow-everything glob', () => {
      expect(verdict('.github/x.py', { ...defaults, allow: ['**/*', '.github/**'] })).toMatch(/^is in \.github\//);
    });
  });

  describe('content and patches', () => {
    it('takes a file with a patch instead of content', () => {
      const patched = file('mod.py', null, '--- a/mod.py\n+++ b/mod.py\n@@ -1 +1 @@\n-x = 1\n+x = 2\n');
      expect(applyPathPolicy([patched], defaults).accepted).toEqual([patched]);
    });

    it.each([
      ['neither', null, null],
      ['both', 'x = 1\n', '--- a\n'],
    ])('refuses a file with %s', (_what, content, patch) => {
      expect(applyPathPolicy([file('mod.py', content, patch)], defaults).rejected).toEqual([
        { path: 'mod.py', reason: 'must carry either content (the whole file) or patch (a unified diff), not both or neither' },
      ]);
    });
  });

  describe('duplicates', () => {
    it('writes a path given twice once, the first time', () => {
      const { accepted, rejected } = applyPathPolicy([file('a.py', 'first'), file('./a.py', 'second')], defaults);
      expect(accepted).toEqual([file('a.py', 'first')]);
      expect(rejected).toEqual([{ path: './a.py', reason: 'is proposed twice; the first one is written' }]);
    });

    it('treats paths that differ only in case as one file', () => {
      const { accepted, rejected } = applyPathPolicy([file('src/Mod.py'), file('SRC/mod.py')], { ...defaults, allow: ['**/*.py'] });
      expect(accepted.map((f) => f.path)).toEqual(['src/Mod.py']);
      expect(rejected).toEqual([{ path: 'SRC/mod.py', reason: 'is the same file as src/Mod.py (paths differing only in case are one file on many systems); the first one is written' }]);
    });
  });

  describe('limits', () => {
    it('writes at most paths.max_files files and refuses the rest, naming the limit', () => {
      const files = ['a.py', 'b.py', 'c.py', 'd.py'].map((path) => file(path));
      const { accepted, rejected } = applyPathPolicy(files, { ...defaults, max_files: 2 });
      expect(accepted.map((f) => f.path)).toEqual(['a.py', 'b.py']);
      expect(rejected).toEqual([
        { path: 'c.py', reason: 'is over the limit of 2 files per generation (paths.max_files)' },
        { path: 'd.py', reason: 'is over the limit of 2 files per generation (paths.max_files)' },
      ]);
    });

    it('does not count refused files against paths.max_files', () => {
      const { accepted } = applyPathPolicy([file('.env'), file('a.py'), file('b.py')], { ...defaults, max_files: 2 });
      expect(accepted.map((f) => f.path)).toEqual(['a.py', 'b.py']);
    });

    it('writes at most paths.max_bytes in all, counting UTF-8 bytes of content or patch, and still takes later files that fit', () => {
      const settings = { ...defaults, max_bytes: 10 };
      const { accepted, rejected } = applyPathPolicy([file('a.py', 'éé'), file('b.py', null, '12345'), file('c.py', 'too long'), file('d.py', 'k')], settings);
      expect(accepted.map((f) => f.path)).toEqual(['a.py', 'b.py', 'd.py']);
      expect(rejected).toEqual([{ path: 'c.py', reason: 'would take the generation over 10 bytes in all (paths.max_bytes): it has 8 bytes and 1 are left' }]);
    });

    it('accepts exactly the limits', () => {
      const { accepted } = applyPathPolicy([file('a.py', '12345'), file('b.py', '12345')], { ...defaults, max_files: 2, max_bytes: 10 });
      expect(accepted).toHaveLength(2);
    });
  });

  it('answers for every file, in the model’s order', () => {
    const files = [file('a.py'), file('.github/x.yml'), file('README.md'), file('b.py')];
    const { accepted, rejected } = applyPathPolicy(files, defaults);
    expect([...accepted.map((f) => f.path), ...rejected.map((r) => r.path)].sort()).toEqual(files.map((f) => f.path).sort());
    expect(accepted.map((f) => f.path)).toEqual(['a.py', 'b.py']);
    expect(rejected.map((r) => r.path)).toEqual(['.github/x.yml', 'README.md']);
  });
});
