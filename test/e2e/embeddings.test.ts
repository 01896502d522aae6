import { describe, expect, it } from 'vitest';
import type { Analysis, Solution } from '../../src/llm/index.js';
import { API_KEY, REPO, useRig } from './setup.js';

/**
 * `context.embeddings_model`: the repository context ranked by BM25 and embeddings together, from the label
 * to the pull request; an embeddings failure falls back to BM25 and the task goes on.
 */

const TOKEN = `ghp_${'Z9y8'.repeat(9)}`;
const FILES = {
  'README.md': '# shop\n',
  '.github/code4py.yml': 'context:\n  embeddings_model: embed-small\n',
  'billing/__init__.py': '',
  'billing/invoice.py': 'def invoice_total(lines, tax):\n    """Total of the invoice lines with tax."""\n    return sum(lines) * (1 + tax)\n',
  // Does what the task needs in other words: BM25 finds none of the task's words in it.
  'money/__init__.py': '',
  'money/accumulate.py': `def accumulate(rows):\n    """Running amounts of the rows (ask ${TOKEN} for access)."""\n    out, acc = [], 0\n    for r in rows:\n        acc += r\n        out.append(acc)\n    return out\n`,
  'net/http_client.py': 'def get(url):\n    return url\n',
  'text/slugify.py': 'def slugify(text):\n    return text.lower()\n',
};

const ANALYSIS: Analysis = {
  intent: 'algorithm',
  title: 'Invoice totals',
  module: 'invoice_totals',
  requirements: ['Sum the invoice lines', 'Apply the tax rate'],
  assumptions: [],
  needs_clarification: false,
  questions: [],
};
const SOLUTION: Solution = {
  summary: 'invoice_totals()',
  files: [
    { path: 'billing/totals.py', content: 'def invoice_totals(lines: list[float]) -> float:\n    """Sum of the lines."""\n    return sum(lines)\n', patch: null },
    { path: 'tests/test_totals.py', content: 'from billing.totals import invoice_totals\n\n\ndef test_sum():\n    assert invoice_totals([1.0, 2.0]) == 3.0\n', patch: null },
  ],
  dependencies: [],
};

/** The test's meaning of things: the task and `accumulate` point one way, the invoice module the other. */
function byMeaning(text: string): number[] {
  if (text.startsWith(`${ANALYSIS.module}\n${ANALYSIS.module}\n`)) return [1, 0];
  if (text.includes('accumulate')) return [1, 0];
  if (text.includes('invoice_total')) return [0, 1];
  return [0.2, 0.98];
}

const rig = useRig({ files: FILES });

async function run(): Promise<{ issue: number; prompt: string; body: string }> {
  rig.model.script('code4py_analysis', ANALYSIS).script('code4py_solution', SOLUTION);
  const issue = rig.addIssue({ title: 'Total an invoice', body: 'Add a function that totals the lines of an invoice, with tax.' });
  await rig.label(issue);
  await rig.settle();
  const [pull] = rig.pulls();
  expect(pull?.head).toBe(`code4py/issue-${issue}`);
  return { issue, prompt: rig.model.prompts('code4py_solution')[0]!, body: pull!.body ?? '' };
}

describe('repository context with embeddings configured', () => {
  it('shows the model the module the embeddings find, though it shares no word with the task', async () => {
    rig.model.embedWith(byMeaning);
    const { prompt, body } = await run();

    const [request, ...more] = rig.model.embeddingRequests;
    expect(more).toEqual([]);
    expect(request).toMatchObject({ model: 'embed-small', encoding_format: 'float' });
    expect(request!.input[0]).toContain('Total an invoice');
    expect(prompt).toContain('out, acc = [], 0');
    expect(body).toMatch(/Repository files given as context[\s\S]*`money\/accumulate\.py`/);
    // The embeddings call is one more call on the task's token account, as the pull request reports it.
    expect(body).toMatch(/- cost: [\d,]+ tokens in 3 model calls/);
    // Embeddings are redacted like every prompt: no installation token, key or token-like text reaches them.
    const sent = JSON.stringify(rig.model.embeddingRequests);
    for (const secret of [TOKEN, API_KEY, ...rig.github.tokens]) expect(sent).not.toContain(secret);
    rig.github.assertNoViolations();
  });

  it('falls back to BM25 when the embeddings endpoint fails, and still opens the pull request', async () => {
    rig.model.embedWith(byMeaning).failEmbeddings({ status: 500 });
    const { issue, prompt, body } = await run();

    expect(rig.model.embeddingRequests).toHaveLength(1);
    expect(prompt).not.toContain('out, acc = [], 0');
    expect(prompt).toContain('def invoice_total(lines, tax):');
    expect(body).not.toContain('`money/accumulate.py`');
    expect([...rig.github.repo(REPO).checkRuns.values()].map((r) => r.conclusion)).toEqual(['success']);
    expect(rig.botComments(issue).at(-1)?.body).toMatch(/^✅ Code4Py opened /);
  });
});
