import { describe, expect, it } from 'vitest';
import type { Analysis, Solution } from '../../src/llm/index.js';
import { getSandbox } from '../../src/sandbox/select.js';
import { readEnvironmentSettings } from '../../src/validate/environment/env.js';
import { environmentPort } from '../../src/validate/environment/port.js';
import { usePackageIndex } from '../helpers/use-package-index.js';
import { REPO, useRig } from './setup.js';

/**
 * A solution that declares a third-party dependency: the bot writes it into requirements.txt, installs it
 * from the configured index (a PEP 503 index on loopback here) before the tests run, and validates with it;
 * a dependency the model invented fails the environment stage and goes back to the model by name.
 */

const SLUGKIT = { name: 'slugkit', version: '1.4.0', files: { 'slugkit/__init__.py': 'def slugify(text):\n    return "-".join(text.lower().split())\n' } };
const packages = usePackageIndex([SLUGKIT]);

const rig = useRig({
  files: { 'README.md': '# titles\n', '.github/code4py.yml': 'max_attempts: 2\nmutation:\n  rounds: 0\n' },
  bot: () => ({
    // The worker's environment stage, pointed at the loopback index (CODE4PY_PIP_INDEX_URL) with its own cache.
    environment: {
      prepare: async (...args) => {
        const settings = readEnvironmentSettings({ CODE4PY_PIP_INDEX_URL: packages.index.url, CODE4PY_ENV_CACHE_DIR: packages.cacheDir });
        return environmentPort(await getSandbox('bwrap'), settings).prepare(...args);
      },
    },
  }),
});

const ANALYSIS: Analysis = { intent: 'data_processing', title: 'Add title_slug()', module: 'titles', requirements: ['title_slug(title) is the slug of a title'], assumptions: [], needs_clarification: false, questions: [] };
const TITLES_PY = 'from slugkit import slugify\n\n\ndef title_slug(title: str) -> str:\n    """The URL slug of a title."""\n    return slugify(title.strip())\n';
const TEST_TITLES_PY = 'from titles import title_slug\n\n\ndef test_title_slug():\n    assert title_slug("  Hello Big World ") == "hello-big-world"\n';
const answer = (dependency: string): Solution => ({
  summary: 'title_slug() on slugkit',
  files: [{ path: 'titles.py', content: TITLES_PY, patch: null }, { path: 'test_titles.py', content: TEST_TITLES_PY, patch: null }],
  dependencies: [dependency],
});

describe('a solution with a third-party dependency', () => {
  it('is validated with the dependency installed from the index; an invented one goes back to the model by name', async () => {
    rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', answer('slugkitt>=1'), answer('slugkit>=1.2'));
    const issue = rig.addIssue({ title: 'title_slug()', body: 'Add title_slug(title) using the slugkit package.' });
    await rig.label(issue);
    await rig.settle();

    const [, repair] = rig.model.prompts('code4py_solution');
    expect(repair).toMatch(/`slugkitt>=1` cannot be installed: it is not on the index/);
    const [pull] = rig.pulls();
    expect(pull?.draft).toBe(false);
    const files = rig.github.filesAt(REPO, `code4py/issue-${issue}`);
    expect(files['requirements.txt']).toBe('slugkit>=1.2\n');
    // The install run asked the index for both names; the tests ran after, with slugkit importable.
    expect(packages.index.requests).toEqual(expect.arrayContaining(['GET /simple/slugkitt/', 'GET /simple/slugkit/']));
    const [check] = [...rig.github.repo(REPO).checkRuns.values()];
    expect(check).toMatchObject({ conclusion: 'success' });
  });
});
