// `npm run test:mutation [-- name…]`: StrykerJS on the modules that keep users safe, one module at a time,
// each with only the test files that import it, then a table of the scores. Exits 1 when a module scores
// under MIN_SCORE. Reports: .stryker/reports/<name>.html and .json.
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Stryker } from '@stryker-mutator/core';

const MIN_SCORE = 90;

const MODULES = [
  { name: 'untrusted', what: 'hidden-content stripping', file: 'src/llm/untrusted.ts' },
  { name: 'secrets', what: 'secret redaction', file: 'src/llm/secrets.ts' },
  { name: 'path-policy', what: 'path policy', file: 'src/pipeline/generate/path-policy.ts' },
  { name: 'tarball', what: 'tarball extraction', file: 'src/github/tarball.ts' },
];

// fileURLToPath, not the URL's pathname: that keeps %20 and friends escaped.
const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** Test files with a relative import that resolves to `module` (`../../src/llm/secrets.js` → src/llm/secrets.ts). */
async function testFilesImporting(module) {
  const target = resolve(root, module);
  const found = [];
  for (const entry of await readdir(join(root, 'test'), { recursive: true })) {
    if (!entry.endsWith('.test.ts')) continue;
    const file = join(root, 'test', entry);
    const source = await readFile(file, 'utf8');
    for (const [, specifier] of source.matchAll(/\bfrom\s+'(\.{1,2}\/[^']+)'/g)) {
      if (resolve(dirname(file), specifier.replace(/\.js$/, '.ts')) === target) {
        found.push(relative(root, file));
        break;
      }
    }
  }
  return found.sort();
}

/** Stryker's mutation score: detected (killed, timed out) over valid mutants (errors and ignored ones left out). */
function score(results) {
  const count = (status) => results.filter((r) => r.status === status).length;
  const row = { killed: count('Killed'), timeout: count('Timeout'), survived: count('Survived'), noCoverage: count('NoCoverage') };
  const valid = row.killed + row.timeout + row.survived + row.noCoverage;
  return { ...row, valid, score: valid === 0 ? 100 : (100 * (row.killed + row.timeout)) / valid };
}

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !MODULES.some((m) => m.name === name));
if (unknown.length > 0) {
  console.error(`Unknown module ${unknown.join(', ')}; choose from ${MODULES.map((m) => m.name).join(', ')}.`);
  process.exit(2);
}

const rows = [];
for (const module of MODULES.filter((m) => wanted.length === 0 || wanted.includes(m.name))) {
  const testFiles = await testFilesImporting(module.file);
  console.log(`\n== ${module.what} (${module.file}) with ${testFiles.join(', ')}`);
  const started = performance.now();
  process.env.CODE4PY_MUTATION_TESTS = testFiles.join(',');
  const results = await new Stryker({
    configFile: join(root, 'stryker.config.mjs'),
    mutate: [module.file],
    htmlReporter: { fileName: `.stryker/reports/${module.name}.html` },
    jsonReporter: { fileName: `.stryker/reports/${module.name}.json` },
  }).runMutationTest();
  rows.push({ ...module, ...score(results), minutes: (performance.now() - started) / 60_000 });
}

console.log(`\nMutation scores (minimum ${MIN_SCORE}%):`);
console.table(
  Object.fromEntries(
    rows.map((r) => [r.file, { score: `${r.score.toFixed(1)}%`, killed: r.killed, 'timed out': r.timeout, survived: r.survived, 'no coverage': r.noCoverage, mutants: r.valid, minutes: Number(r.minutes.toFixed(1)) }]),
  ),
);
const low = rows.filter((r) => r.score < MIN_SCORE);
if (low.length > 0) {
  console.error(`Under ${MIN_SCORE}%: ${low.map((r) => r.file).join(', ')}. See .stryker/reports/ for the surviving mutants.`);
  process.exitCode = 1;
}
