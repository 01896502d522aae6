import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SYNTHETIC_ANALYSIS, SYNTHETIC_TASK, syntheticRepo } from '../../bench/context.js';
import { parseRepoConfig } from '../../src/config/repo-config.js';
import { OpenAIModelClient, TokenLedger, type Analysis, type RepoFile, type TaskText } from '../../src/llm/index.js';
import { solutionMessages } from '../../src/llm/prompts/messages.js';
import { DataFence } from '../../src/llm/untrusted.js';
import { rank, words } from '../../src/pipeline/context/bm25.js';
import { README_CUT_MARKER } from '../../src/pipeline/context/conventions.js';
import { EMBEDDING_BATCH, EMBEDDING_CANDIDATES } from '../../src/pipeline/context/embeddings.js';
import { buildContext, chooseContext, MAP_PATH, rankContext, type ContextRequest } from '../../src/pipeline/context/pick-context.js';
import type { MapModule } from '../../src/pipeline/context/schema.js';
import { countTokens } from '../../src/pipeline/context/tokens.js';
import { getSandbox, type ReadySandbox } from '../../src/sandbox/select.js';
import { FakeModelServer } from '../helpers/fake-model.js';

let ready: ReadySandbox;
beforeAll(async () => {
  ready = await getSandbox('bwrap');
});

const file = (path: string, text: string) => ({ path, content: Buffer.from(text) });
const task: TaskText = { title: 'Total an invoice', body: 'Add a function that totals the lines of an invoice, with tax.', comments: [] };
const analysis: Analysis = {
  intent: 'algorithm',
  title: 'Invoice totals',
  module: 'invoice_totals',
  requirements: ['Sum the invoice lines', 'Apply the tax rate'],
  assumptions: [],
  needs_clarification: false,
  questions: [],
};
const module = (path: string, names: string[], doc: string | null = null): MapModule => ({
  path,
  error: null,
  doc,
  symbols: names.map((name) => ({ kind: 'def' as const, name, signature: '(x)', doc: null, methods: [] })),
});

/** Tokens the context adds to the real solution prompt (same fence nonce with and without it). */
function promptCost(context: readonly RepoFile[]): number {
  const fence = new DataFence();
  const size = (files: readonly RepoFile[]) => countTokens(solutionMessages({ task, analysis, context: files }, fence)[1]!.content as string);
  return size(context) - size([]);
}

describe('ranking (BM25 over identifiers, docstrings and paths)', () => {
  it('splits identifiers at underscores and case changes, lower-cased, plurals folded', () => {
    expect(words('parseHTTPResponse load_user_sessions XMLParser2')).toEqual(['parse', 'http', 'response', 'load', 'user', 'session', 'xml', 'parser2']);
  });

  it('scores the document about the query first, and breaks ties by path', () => {
    const scored = rank(
      [
        { id: 'b.py', words: words('send_email smtp_client') },
        { id: 'a.py', words: words('parse_invoice invoice_total InvoiceLine tax') },
        { id: 'c.py', words: words('render_template') },
      ],
      words('invoice total with tax'),
    );
    expect(scored.map((s) => s.id)).toEqual(['a.py', 'b.py', 'c.py']);
    expect(scored[1]!.score).toBe(0);
  });

  it('gives first place among the whole files to the module the task is about', () => {
    const files = [
      file('net/http_client.py', 'def get(url):\n    return url\n'),
      file('billing/invoice.py', 'def invoice_total(lines, tax):\n    """Total of the invoice lines with tax."""\n'),
      file('text/slugify.py', 'def slugify(text):\n    return text\n'),
    ];
    const map = { modules: [module('billing/invoice.py', ['invoice_total']), module('net/http_client.py', ['get']), module('text/slugify.py', ['slugify'])] };
    const context = chooseContext({ files, task, analysis }, map);
    expect(context.paths[0]).toBe('billing/invoice.py');
    expect(context.paths).not.toContain('text/slugify.py');
  });
});

describe('conventions', () => {
  it('offers the packaging, requirements, conftest, the most relevant tests and the README before other files', () => {
    const files = [
      file('pyproject.toml', '[project]\nname = "shop"\n'),
      file('setup.cfg', '[flake8]\nmax-line-length = 100\n'),
      file('requirements.txt', 'requests\n'),
      file('requirements-dev.txt', 'pytest\n'),
      file('conftest.py', 'import pytest\n'),
      file('README.md', '# Shop\n\nRun `pytest`.\n'),
      file('tests/test_invoice.py', 'from billing.invoice import invoice_total\n\ndef test_invoice_total():\n    assert invoice_total([1], 0) == 1\n'),
      file('tests/test_mail.py', 'def test_send():\n    pass\n'),
      file('tests/test_slug.py', 'def test_slug():\n    pass\n'),
      file('billing/invoice.py', 'def invoice_total(lines, tax):\n    return sum(lines)\n'),
    ];
    const map = { modules: files.filter((f) => f.path.endsWith('.py')).map((f) => module(f.path, [])) };
    const context = chooseContext({ files, task, analysis }, map);
    expect(context.paths).toEqual([
      'pyproject.toml',
      'setup.cfg',
      'requirements-dev.txt',
      'requirements.txt',
      'conftest.py',
      'tests/test_invoice.py',
      'tests/test_mail.py',
      'README.md',
      'billing/invoice.py',
    ]);
    expect(context.files[0]!.path).toBe(MAP_PATH);
  });

  it("shows only the README's opening, marked as cut", () => {
    const readme = `# Shop\n\nConventions: snake_case.\n\n${'A long paragraph about the history of the shop.\n'.repeat(500)}`;
    const context = chooseContext({ files: [file('README.md', readme)], task, analysis }, { modules: [] });
    const given = context.files.find((f) => f.path === 'README.md')!;
    expect(given.content.startsWith('# Shop\n\nConventions: snake_case.')).toBe(true);
    expect(given.content.endsWith(README_CUT_MARKER)).toBe(true);
    expect(countTokens(given.content)).toBeLessThan(700);
  });
});

describe('the token budget', () => {
  it('is never exceeded on a repository of 2,000 Python files, as the prompt renders the context', async () => {
    const files = syntheticRepo(2000);
    for (const maxTokens of [500, 3000, 12_000, 40_000]) {
      const context = await buildContext({ files, task: SYNTHETIC_TASK, analysis: SYNTHETIC_ANALYSIS, maxTokens }, ready.sandbox);
      expect(context.tokens).toBeLessThanOrEqual(maxTokens);
      expect(promptCost(context.files)).toBeLessThanOrEqual(context.tokens);
      if (maxTokens >= 3000) {
        expect(context.map.shown).toBeGreaterThan(0);
        expect(context.tokens).toBeGreaterThan(maxTokens * 0.9); // the budget is used, not wasted
      }
    }
  });

  it('skips a file that does not fit whole instead of cutting it, and takes smaller ones after it', () => {
    const big = `def invoice_total(lines):\n${'    x = 1  # invoice\n'.repeat(2000)}`;
    const files = [file('billing/invoice.py', big), file('billing/invoice_tax.py', 'def invoice_tax(x):\n    return x\n')];
    const map = { modules: [module('billing/invoice.py', ['invoice_total']), module('billing/invoice_tax.py', ['invoice_tax'])] };
    const context = chooseContext({ files, task, analysis, maxTokens: 2000 }, map);
    expect(context.paths).toEqual(['billing/invoice_tax.py']);
    expect(context.tokens).toBeLessThanOrEqual(2000);
  });

  it('counts text that looks like a special token as the plain text it is', () => {
    const files = [file('billing/invoice.py', 'END = "<|endoftext|>"\ndef invoice_total(x):\n    return x\n')];
    const context = chooseContext({ files, task, analysis }, { modules: [module('billing/invoice.py', ['invoice_total'])] });
    expect(context.paths).toEqual(['billing/invoice.py']);
    expect(promptCost(context.files)).toBeLessThanOrEqual(context.tokens);
  });

  it('gives nothing, at no cost, when not even the map fits', () => {
    const context = chooseContext({ files: [file('a.py', 'def a(): pass\n')], task, analysis, maxTokens: 20 }, { modules: [module('a.py', ['a'])] });
    expect(context).toMatchObject({ files: [], paths: [], tokens: 0 });
  });
});

describe('determinism', () => {
  it('gives the same context for the same repository and task', async () => {
    const request: ContextRequest = { files: syntheticRepo(300, 7), task: SYNTHETIC_TASK, analysis: SYNTHETIC_ANALYSIS, maxTokens: 6000 };
    const first = await buildContext(request, ready.sandbox);
    const second = await buildContext({ ...request, files: [...request.files].reverse() }, ready.sandbox);
    expect(second).toEqual(first);
  });
});

describe('embeddings (when `context.embeddings_model` is set)', () => {
  let server: FakeModelServer;
  let client: OpenAIModelClient;
  beforeAll(async () => {
    server = await new FakeModelServer().start();
    client = new OpenAIModelClient({ apiKey: 'sk-test-embeddings-0123456789abcdef', baseURL: server.baseUrl, model: 'chat-model' });
  });
  afterAll(() => server.stop());

  // A module that does what the task asks in other words (no word of the task in it), one BM25 finds by its
  // words, and two unrelated ones. The fake embeds by meaning as the test defines it: the task and
  // `accumulate` point one way, the invoice module the other, the unrelated ones mostly the other too.
  const files = [
    file('billing/invoice.py', 'def invoice_total(lines, tax):\n    """Total of the invoice lines with tax."""\n'),
    file('money/accumulate.py', 'def accumulate(rows):\n    """Running amounts of the rows."""\n'),
    file('net/http_client.py', 'def get(url):\n    return url\n'),
    file('text/slugify.py', 'def slugify(text):\n    return text\n'),
  ];
  const map = { modules: [module('billing/invoice.py', ['invoice_total']), module('money/accumulate.py', ['accumulate']), module('net/http_client.py', ['get']), module('text/slugify.py', ['slugify'])] };
  const byMeaning = (text: string): number[] => {
    if (text.startsWith(`${analysis.module}\n${analysis.module}\n`)) return [1, 0]; // the task (taskQuery's opening)
    if (text.includes('accumulate')) return [1, 0];
    if (text.includes('invoice_total')) return [0, 1];
    return [0.2, 0.98];
  };
  const request = (extra: Partial<ContextRequest> = {}): ContextRequest => ({ files, task, analysis, embeddingsModel: 'embed-small', embedder: client, usage: new TokenLedger(), ...extra });

  it('comes from .github/code4py.yml, and is off when the key is left out', () => {
    const on = parseRepoConfig({ context: { embeddings_model: 'text-embedding-3-small' } });
    expect(on.ok && on.config.context).toEqual({ max_tokens: 12_000, embeddings_model: 'text-embedding-3-small' });
    const off = parseRepoConfig(null);
    expect(off.ok && off.config.context.embeddings_model).toBeUndefined();
    const bad = parseRepoConfig({ context: { embeddings_model: '' } });
    expect(!bad.ok && bad.message).toContain('context.embeddings_model');
  });

  it('reranks BM25\'s candidates: a module without the task\'s words comes first when the embeddings say it is the one', async () => {
    server.embedWith(byMeaning);
    const bm25 = chooseContext({ files, task, analysis }, map);
    expect(bm25.paths).toEqual(['billing/invoice.py']);
    expect(bm25.ranking).toEqual({ method: 'bm25' });

    const before = server.embeddingRequests.length;
    const usage = new TokenLedger();
    const fused = await rankContext(request({ usage }), map);
    expect(fused.paths).toEqual(['money/accumulate.py', 'billing/invoice.py']);
    expect(fused.ranking).toEqual({ method: 'bm25+embeddings', embeddingsModel: 'embed-small' });
    const [sent] = server.embeddingRequests.slice(before);
    expect(sent).toMatchObject({ model: 'embed-small', encoding_format: 'float' });
    // The task first, then each candidate's map entry (its path, names and docstrings), not the whole file.
    expect(sent!.input).toHaveLength(1 + map.modules.length);
    expect(sent!.input[0]).toContain('Total an invoice');
    expect(sent!.input).toContain('money/accumulate.py\n  def accumulate(x)');
    // Embeddings spend from the task's token account.
    expect(usage.snapshot.calls).toBe(1);
    expect(usage.snapshot.total).toBeGreaterThan(0);
  });

  it(`embeds at most ${EMBEDDING_CANDIDATES} of BM25's best modules, ${EMBEDDING_BATCH} texts a request`, async () => {
    server.embedWith(byMeaning);
    const many = Array.from({ length: 70 }, (_, i) => `pkg/invoice_part_${String(i).padStart(2, '0')}.py`);
    const before = server.embeddingRequests.length;
    await rankContext(request({ files: many.map((p) => file(p, 'def invoice_part(x):\n    return x\n')) }), { modules: many.map((p) => module(p, ['invoice_part'])) });
    const sent = server.embeddingRequests.slice(before);
    expect(sent.map((r) => r.input.length)).toEqual([EMBEDDING_BATCH, 1 + EMBEDDING_CANDIDATES - EMBEDDING_BATCH]);
    expect(sent.flatMap((r) => r.input).filter((t) => t.startsWith('pkg/'))).toHaveLength(EMBEDDING_CANDIDATES);
  });

  it('falls back to BM25 when the embeddings endpoint fails, and says so in the context', async () => {
    server.embedWith(byMeaning).failEmbeddings({ status: 500 });
    const bm25 = chooseContext({ files, task, analysis }, map);
    const context = await rankContext(request(), map);
    expect(context.paths).toEqual(bm25.paths);
    expect(context.files).toEqual(bm25.files);
    expect(context.ranking.method).toBe('bm25');
    expect(context.ranking.note).toMatch(/^embeddings \(embed-small\) were not used, so BM25 alone ranked the files: .*500/);
  });

  it('falls back to BM25 when the server has no such embeddings model, naming the setting to check', async () => {
    const chatOnly = await new FakeModelServer().start();
    try {
      const context = await rankContext(request({ embedder: new OpenAIModelClient({ apiKey: 'sk-test-embeddings-0123456789abcdef', baseURL: chatOnly.baseUrl, model: 'chat-model' }) }), map);
      expect(context.paths).toEqual(['billing/invoice.py']);
      expect(context.ranking.note).toContain('context.embeddings_model');
    } finally {
      await chatOnly.stop();
    }
  });

  it('falls back to BM25 when the task has spent its token budget, without a request', async () => {
    server.embedWith(byMeaning);
    const spent = new TokenLedger(1000, { total: 1000 });
    const before = server.embeddingRequests.length;
    const context = await rankContext(request({ usage: spent }), map);
    expect(server.embeddingRequests.length).toBe(before);
    expect(context.paths).toEqual(['billing/invoice.py']);
    expect(context.ranking.note).toContain('max_tokens_per_task');
  });

  it('is cancelled with the task, not fallen back from', async () => {
    server.embedWith(byMeaning);
    const abort = new AbortController();
    abort.abort(new Error('the task was cancelled'));
    await expect(rankContext(request(), map, abort.signal)).rejects.toThrow('the task was cancelled');
  });
});
