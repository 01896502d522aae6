import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { defaultRepoConfig, RepoConfigSchema } from '../../src/config/repo-config.js';
import { OpenAIModelClient, type Analysis, type Solution } from '../../src/llm/index.js';
import { runRefineTask } from '../../src/pipeline/refine.js';
import type { TaskPorts } from '../../src/pipeline/ports.js';
import { runGenerateTask } from '../../src/pipeline/run-task.js';
import { FakeModelServer } from '../helpers/fake-model.js';
import { MemoryGitHub } from '../helpers/memory-github.js';
import { useValidation } from '../helpers/validation-ports.js';

const ANALYSIS: Analysis = { intent: 'algorithm', title: 'Add clamp', module: 'clamp', requirements: ['clamp a number'], assumptions: [], needs_clarification: false, questions: [] };
const FIRST: Solution = {
  summary: 'clamp()',
  files: [
    { path: 'clamp.py', content: 'def clamp(x, low, high):\n    return max(low, min(x, high))\n', patch: null },
    { path: 'test_clamp.py', content: 'from clamp import clamp\n\n\ndef test_clamp():\n    assert clamp(5, 0, 3) == 3\n', patch: null },
  ],
  dependencies: [],
};
const REFINED: Solution = {
  summary: 'clamp() refuses low > high',
  files: [
    { path: 'clamp.py', content: 'def clamp(x, low, high):\n    if low > high:\n        raise ValueError("low > high")\n    return max(low, min(x, high))\n', patch: null },
    { path: 'test_clamp.py', content: 'import pytest\n\nfrom clamp import clamp\n\n\ndef test_clamp():\n    assert clamp(5, 0, 3) == 3\n\n\ndef test_bad_bounds():\n    with pytest.raises(ValueError):\n        clamp(1, 3, 0)\n', patch: null },
  ],
  dependencies: [],
};

const validation = useValidation();
let github: MemoryGitHub;
let model: FakeModelServer;
let saved: Record<string, unknown>;

beforeEach(async () => {
  github = new MemoryGitHub({ 'README.md': '# tools\n' });
  github.permissions.set('reviewer', 'write');
  github.issues.set(7, { number: 7, title: 'Clamp', body: 'Add clamp(x, low, high).', author: 'reviewer', state: 'open' });
  model = await new FakeModelServer().start();
  saved = {};
});
afterEach(() => model.stop());

function ports(): TaskPorts {
  return {
    github,
    model: new OpenAIModelClient({ apiKey: 'sk-test-refine-00000000000000000000', baseURL: model.baseUrl, model: 'fake' }),
    sandbox: validation.sandbox(),
    linter: validation.linter(),
    checkpoints: { get: () => ({ ...saved }), set: (key, value) => void (saved[key] = value) },
    defaultModel: 'fake',
    statusIntervalMs: 60_000,
  };
}

async function openPullRequest(): Promise<number> {
  model.script('code4py_analysis', ANALYSIS).script('code4py_solution', FIRST);
  const outcome = await runGenerateTask({ taskId: 'generate', issueNumber: 7, sender: 'reviewer', config: defaultRepoConfig() }, ports());
  saved = {};
  if (outcome.kind !== 'pull-request') throw new Error('no pull request');
  return outcome.number;
}

describe('refine', () => {
  it('builds on the branch head, keeping a commit someone pushed, with the feedback verbatim and the current code', async () => {
    const pull = await openPullRequest();
    const human = github.pushAs('code4py/issue-7', { 'NOTES.md': 'added by a person\n' });
    model.script('code4py_solution', REFINED);
    const outcome = await runRefineTask(
      { taskId: 'refine', pullNumber: pull, sender: 'reviewer', feedback: [{ author: 'reviewer', body: 'Raise ValueError when low > high.', path: 'clamp.py', line: 2 }], config: defaultRepoConfig() },
      ports(),
    );
    expect(outcome).toMatchObject({ kind: 'refined', passed: true });
    const head = github.refs.get('code4py/issue-7')!;
    expect(github.commits.get(head)?.parents).toEqual([human]);
    expect(github.filesAt('code4py/issue-7').get('NOTES.md')).toBe('added by a person\n');
    expect(github.filesAt('code4py/issue-7').get('clamp.py')).toContain('raise ValueError');
    const request = model.bodies.at(-1)!;
    expect(request).toContain('Raise ValueError when low > high.');
    expect(request).toContain('clamp.py');
    expect(request).toContain('return max(low, min(x, high))');
    const checks = [...github.checkRuns.values()];
    expect(checks.at(-1)).toMatchObject({ headSha: head });
    expect(checks.at(-1)?.updates.at(-1)).toMatchObject({ conclusion: 'success' });
    expect([...github.comments.values()].at(-1)?.body).toMatch(/^🔁 Code4Py pushed [0-9a-f]{7} for @reviewer:\n\n> Raise ValueError when low &gt; high\.\n\n\*\*What changed:\*\* clamp\(\) refuses low &gt; high/);
  });

  it("takes the branch's change since it forked from main, not since main's tip: main's newer commits are not part of it", async () => {
    const pull = await openPullRequest();
    github.pushAs('main', { 'README.md': '# tools, version 2\n' }, 'Main moves on');
    model.script('code4py_solution', REFINED);
    const outcome = await runRefineTask({ taskId: 'refine', pullNumber: pull, sender: 'reviewer', feedback: [{ body: 'Raise ValueError when low > high.' }], config: defaultRepoConfig() }, ports());
    expect(outcome).toMatchObject({ kind: 'refined', passed: true });
    // The branch's README.md is the one it forked with: neither "the current code" nor a file the pull request changes.
    const files = github.pulls[0]!.body.split('## ').find((section) => section.startsWith('Files'))!;
    expect(files).toContain('clamp.py');
    expect(files).not.toContain('README.md');
    expect(model.bodies.at(-1)!).not.toContain('# tools\n');
  });

  it('leaves the branch as it is when no attempt passes, and says so on the pull request', async () => {
    const pull = await openPullRequest();
    const before = github.refs.get('code4py/issue-7');
    const broken: Solution = { ...REFINED, files: [{ path: 'clamp.py', content: 'def clamp(x, low, high):\n    return low\n', patch: null }] };
    model.script('code4py_solution', broken);
    const outcome = await runRefineTask({ taskId: 'refine', pullNumber: pull, sender: 'reviewer', feedback: [{ body: 'Simplify.' }], config: RepoConfigSchema.parse({ max_attempts: 1 }) }, ports());
    expect(outcome).toEqual({ kind: 'failed', attempts: 1 });
    expect(github.refs.get('code4py/issue-7')).toBe(before);
    expect([...github.comments.values()].at(-1)?.body).toContain('the branch is unchanged');
  });

  it('refuses pull requests Code4Py did not make', async () => {
    github.refs.set('feature', github.refs.get('main')!);
    github.pulls.push({ number: 300, title: 'x', body: '', head: 'feature', base: 'main', draft: false, state: 'open', url: 'u', headSha: github.refs.get('main')! });
    const outcome = await runRefineTask({ taskId: 'refine', pullNumber: 300, sender: 'reviewer', feedback: [{ body: 'Change it.' }], config: defaultRepoConfig() }, ports());
    expect(outcome).toEqual({ kind: 'not-ours' });
    expect(model.bodies).toEqual([]);
  });
});
