/**
 * `npm run bench:context`: the time to build the repository context for a generated repository of 2,000
 * Python files (the sandboxed parse, ranking and packing, as the pipeline runs them), median of several
 * runs, and the tokens used against the budget.
 */
import { pathToFileURL } from 'node:url';
import type { Analysis, TaskText } from '../src/llm/index.js';
import { buildContext, DEFAULT_CONTEXT_TOKENS } from '../src/pipeline/context/pick-context.js';
import { getSandbox } from '../src/sandbox/select.js';
import type { InputFile } from '../src/validate/workspace.js';
import { median } from './stats.js';

const WORDS = ('invoice order customer payment ledger report export import parser token cache queue retry ' +
  'schedule calendar email template render image thumbnail upload storage bucket user session auth ' +
  'permission audit metric counter histogram graph route handler request response header cookie').split(' ');

/** A small deterministic generator (mulberry32), so every run builds the same repository. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const camel = (parts: string[]) => parts.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');

/**
 * A repository of `count` Python files: packages of modules with docstrings, functions and classes; a test
 * file for every tenth module; a few files that do not parse; some very large modules; and the usual
 * conventions (pyproject.toml, requirements.txt, conftest.py, a long README).
 */
export function syntheticRepo(count = 2000, seed = 42): InputFile[] {
  const next = random(seed);
  const pick = () => WORDS[Math.floor(next() * WORDS.length)]!;
  const files: InputFile[] = [];
  const add = (path: string, text: string) => files.push({ path, content: Buffer.from(text) });
  // conftest.py, added below, is the last Python file.
  for (let i = 0; files.length < count - 1; i++) {
    const pkg = `pkg${String(i % 40).padStart(2, '0')}`;
    const a = pick();
    const b = pick();
    const module = `${a}_${b}_${i}`;
    if (i % 10 === 9) {
      add(`tests/test_${module}.py`, `from ${pkg}.${module} import ${a}_${b}\n\n\ndef test_${a}_${b}():\n    assert ${a}_${b}([1, 2]) == 3\n`);
      continue;
    }
    if (i % 97 === 5) {
      add(`${pkg}/${module}.py`, `def broken(:\n    return ${a}\n`);
      continue;
    }
    const lines = [`"""${camel([a, b])} helpers: ${a} and ${b} handling."""`, 'import json', ''];
    const functions = 3 + Math.floor(next() * 4);
    // One module in fifty is large, as real repositories have: it must be skipped or counted, not break the budget.
    const bodyLines = i % 50 === 7 ? 400 : 3;
    for (let f = 0; f < functions; f++) {
      const name = f === 0 ? `${a}_${b}` : `${pick()}_${pick()}_${f}`;
      lines.push('', `def ${name}(items: list[int], limit: int = 10) -> int:`, `    """Return the ${a} ${b} total of the items."""`);
      for (let l = 0; l < bodyLines; l++) lines.push(`    value_${l} = sum(items[:limit]) + ${l}`);
      lines.push('    return sum(items[:limit])');
    }
    lines.push('', '', `class ${camel([b, a])}Service:`, `    """Keeps ${b} ${a} records."""`, '', '    def __init__(self, store):', '        self.store = store', '');
    lines.push(`    def load_${a}(self, key: str) -> dict:`, `        """Load one ${a} by key."""`, '        return json.loads(self.store[key])', '');
    add(`${pkg}/${module}.py`, lines.join('\n'));
  }
  add('pyproject.toml', '[project]\nname = "synthetic"\nversion = "0.1.0"\nrequires-python = ">=3.10"\n\n[tool.pytest.ini_options]\ntestpaths = ["tests"]\n');
  add('requirements.txt', 'requests>=2.31\npydantic>=2\n');
  add('conftest.py', 'import pytest\n\n\n@pytest.fixture\ndef store():\n    return {}\n');
  add('README.md', `# Synthetic\n\nConventions: snake_case modules under pkgNN/, tests under tests/.\n\n${'Filler paragraph about the project. '.repeat(2000)}\n`);
  return files;
}

export const SYNTHETIC_TASK: TaskText = {
  title: 'Add an invoice payment report',
  body: 'We need a function that totals invoice payments per customer and renders a report.',
  comments: [],
};

export const SYNTHETIC_ANALYSIS: Analysis = {
  intent: 'data_processing',
  title: 'Invoice payment report',
  module: 'invoice_payment_report',
  requirements: ['Total the payments of each invoice per customer', 'Render the totals as a report'],
  assumptions: [],
  needs_clarification: false,
  questions: [],
};


async function main(): Promise<void> {
  const rounds = Number(process.env.BENCH_ROUNDS ?? 7);
  const budget = Number(process.env.BENCH_BUDGET ?? DEFAULT_CONTEXT_TOKENS);
  const files = syntheticRepo();
  const { sandbox } = await getSandbox('auto');
  const request = { files, task: SYNTHETIC_TASK, analysis: SYNTHETIC_ANALYSIS, maxTokens: budget };
  await buildContext(request, sandbox); // warm the page cache and the tokenizer
  const times: number[] = [];
  let last = await buildContext(request, sandbox);
  for (let i = 0; i < rounds; i++) {
    const started = performance.now();
    last = await buildContext(request, sandbox);
    times.push(performance.now() - started);
  }
  const python = files.filter((f) => f.path.endsWith('.py')).length;
  console.log(`Repository context for a generated repository of ${python} Python files (${files.length} files, ${(files.reduce((s, f) => s + f.content.length, 0) / 1024 / 1024).toFixed(1)} MiB)`);
  console.log(`  build time, median of ${rounds}: ${median(times).toFixed(0)} ms (min ${Math.min(...times).toFixed(0)}, max ${Math.max(...times).toFixed(0)})`);
  console.log(`  tokens: ${last.tokens} of ${last.budget} (${((100 * last.tokens) / last.budget).toFixed(1)}%)`);
  console.log(`  map: ${last.map.shown} of ${last.map.total} modules; whole files given: ${last.paths.length}`);
  console.log(`  first files: ${last.paths.slice(0, 8).join(', ')}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) await main();
