import type { XMLParser } from 'fast-xml-parser';
import { z } from 'zod';
import type { TestCase } from '../report.js';

const text = z.union([z.string(), z.number()]).transform(String);
const Outcome = z.union([z.string(), z.object({ message: text.optional(), '#text': text.optional() }).passthrough()]);
const Case = z
  .object({
    classname: text.optional(),
    name: text,
    file: text.optional(),
    line: text.optional(),
    time: text.optional(),
    failure: z.array(Outcome).optional(),
    error: z.array(Outcome).optional(),
    skipped: z.array(Outcome).optional(),
  })
  .passthrough();
const Suite = z.object({ testcase: z.array(Case).optional() }).passthrough();
const Junit = z.object({ testsuites: z.object({ testsuite: z.array(Suite).optional() }).passthrough() }).passthrough();

let parser: XMLParser | undefined;

/** The XML parser, loaded on first use: it is needed only once the tests have run. */
async function xmlParser(): Promise<XMLParser> {
  const { XMLParser } = await import('fast-xml-parser');
  parser ??= new XMLParser(PARSER_OPTIONS);
  return parser;
}

const PARSER_OPTIONS = {
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false,
  parseTagValue: false,
  processEntities: true,
  // pytest writes newlines in messages as numeric character references (`&#10;`): decode them too.
  htmlEntities: true,
  isArray: (name: string) => ['testsuite', 'testcase', 'failure', 'error', 'skipped'].includes(name),
};

/**
 * Reads pytest's JUnit XML (xunit1 family, which keeps each test's file and line) into test cases.
 * A document that does not parse gives no cases, and the caller reports pytest's own output instead.
 */
export async function parseJunit(xml: string): Promise<TestCase[]> {
  const parser = await xmlParser();
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return [];
  }
  const parsed = Junit.safeParse(doc);
  if (!parsed.success) return [];
  const cases: TestCase[] = [];
  for (const suite of parsed.data.testsuites.testsuite ?? []) {
    for (const c of suite.testcase ?? []) cases.push(toCase(c));
  }
  return cases;
}

function toCase(c: z.infer<typeof Case>): TestCase {
  const file = c.file;
  const id = nodeId(c.classname ?? '', c.name, file);
  const durationMs = Math.max(0, Number(c.time ?? 0) * 1000) || 0;
  const problem = c.failure?.[0] ?? c.error?.[0];
  const outcome = c.failure ? 'failed' : c.error ? 'error' : c.skipped ? 'skipped' : 'passed';
  const base: TestCase = { id, outcome, durationMs, ...(file ? { path: file } : {}) };
  // xunit1 gives the 0-based line of the test's definition; a failure's traceback names the failing line.
  const defined = c.line !== undefined && /^\d+$/.test(c.line) ? Number(c.line) + 1 : undefined;
  if (outcome === 'skipped') {
    const reason = describe(c.skipped?.[0]).message;
    return { ...base, ...(defined ? { line: defined } : {}), ...(reason ? { message: reason } : {}) };
  }
  if (!problem) return { ...base, ...(defined ? { line: defined } : {}) };
  const { message, details } = describe(problem);
  const failing = file && details ? lineInTraceback(details, file) : undefined;
  const line = failing ?? defined;
  return { ...base, ...(line ? { line } : {}), ...(message ? { message } : {}), ...(details ? { details: trimTraceback(details) } : {}) };
}

function describe(outcome: z.infer<typeof Outcome> | undefined): { message?: string; details?: string } {
  if (outcome === undefined) return {};
  if (typeof outcome === 'string') return outcome ? { details: outcome } : {};
  return {
    ...(outcome.message ? { message: outcome.message } : {}),
    ...(outcome['#text'] ? { details: outcome['#text'] } : {}),
  };
}

/** pytest's node id: `path::Class::test`, rebuilt from the JUnit class name (`pkg.test_mod.Class`). */
function nodeId(classname: string, name: string, file: string | undefined): string {
  if (!file) return classname ? `${classname}::${name}` : name;
  const module = file.replace(/\.py$/, '').split('/').join('.');
  const rest = classname.startsWith(`${module}.`) ? classname.slice(module.length + 1) : '';
  return [file, ...(rest ? rest.split('.') : []), name].join('::');
}


/** The last `FILE:LINE:` frame of the test's own file in a short traceback: the line that failed. */
function lineInTraceback(details: string, file: string): number | undefined {
  let line: number | undefined;
  for (const match of details.matchAll(/^(\S+?\.py):(\d+):/gm)) {
    if (match[1] === file || file.endsWith(`/${match[1]}`) || match[1]?.endsWith(`/${file}`)) line = Number(match[2]);
  }
  return line;
}

/** Short tracebacks stay whole; long ones keep their head and the end, where the assertion is. */
function trimTraceback(details: string, maxLines = 40): string {
  const lines = details.trimEnd().split('\n');
  if (lines.length <= maxLines) return lines.join('\n');
  return [...lines.slice(0, 10), `… ${lines.length - maxLines + 10} lines left out …`, ...lines.slice(-(maxLines - 10))].join('\n');
}
