import { describe, expect, it } from 'vitest';
import { defaultValidationConfig } from '../../../src/config/schema.js';
import { readGitTree, readWorkingTree } from '../../../src/validate/change/git-tree.js';
import { readFolder } from '../../../src/validate/workspace.js';
import { fixtureRepo } from '../../helpers/fixture-repo.js';
import { useTempDirs } from '../../helpers/project.js';

const { onCleanup } = useTempDirs();

describe('a git tree read for validation', () => {
  it('notes a file over limits.max_file_bytes as a folder copy does, at the base and in the working tree', async () => {
    const big = `VALUES = [${'1, '.repeat(100)}]\n`;
    const repo = await fixtureRepo({ commits: [{ 'big.py': big, 'data.csv': 'x'.repeat(300), 'small.py': 'X = 1\n' }], working: {} });
    onCleanup(repo.cleanup);
    const defaults = defaultValidationConfig();
    const config = { ...defaults, limits: { ...defaults.limits, max_file_bytes: 200 } };
    const copied = await readFolder(repo.dir, config);
    const base = await readGitTree(repo.dir, 'HEAD', config);
    const working = await readWorkingTree(repo.dir, config);
    expect(copied.notes).toEqual([
      expect.objectContaining({ path: 'big.py', rule: 'file-too-large', severity: 'error', message: 'big.py is larger than 200 bytes, so it was not copied into the sandbox and cannot be validated; split it or raise limits.max_file_bytes' }),
      expect.objectContaining({ path: 'data.csv', rule: 'file-too-large', severity: 'warning' }),
    ]);
    expect(base.notes).toEqual(copied.notes);
    expect(working.notes).toEqual(copied.notes);
    expect(base.files.map((f) => f.path)).toEqual(['small.py']);
    expect(working.files.map((f) => f.path)).toEqual(['small.py']);
  });
});
