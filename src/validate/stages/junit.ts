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
const Suite = z.object({ testcase: z.array(z.unknown()).optional() }).passthrough();
// pytest writes <testsuites><testsuite>…; older versions and other tools a bare <testsuite>.
const Junit = z
  .object({ testsuites: z.object({ testsuite: z.array(Suite).optional() }).optional(), testsuite: z.array(Suite).optional() })
  .refine((doc) => doc.testsuites !== undefined || doc.testsuite !== undefined);

/** The cases that could be read, and one line for each entry that could not. */
export interface JunitResult {
  readonly cases: TestCase[];
  readonly problems: string[];
}

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
 * Reads pytest's JUnit XML (xunit1 family, which keeps each test's file and line) into test cases. Each
 * entry is read on its own: one that cannot be (no name, a malformed outcome) is reported in `problems`
 * and never drops the others. A document that does not parse at all gives null, and the caller falls back
 * on the progress the run wrote.
 */
export async function parseJunit(xml: string): Promise<JunitResult | null> {
  const parser = await xmlParser();
  let doc: unknown;
  try {
    doc = parser.parse(xml);
  } catch {
    return null;
  }
  const parsed = Junit.safeParse(doc);
  if (!parsed.success) return null;
  const suites = parsed.data.testsuites?.testsuite ?? parsed.data.testsuite ?? [];
  const cases: TestCase[] = [];
  const problems: string[] = [];
  for (const suite of suites) {
    for (const [index, entry] of (suite.testcase ?? []).entries()) {
      const c = Case.safeParse(entry);
      if (c.success) cases.push(toCase(c.data));
      else problems.push(`JUnit entry ${index + 1} of its suite could not be read (${describeEntry(entry)}: ${c.error.issues[0]?.path.join('.') || 'entry'} ${c.error.issues[0]?.message ?? ''}); the other results are kept`);
    }
  }
  return { cases, problems };
}

function describeEntry(entry: unknown): string {
  if (typeof entry !== 'object' || entry === null) return 'not an element';
  const { classname, file } = entry as Record<string, unknown>;
  return [classname, file].filter((v) => typeof v === 'string' && v !== '').join(', ') || 'no class name or file';
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
  // A module that could not be collected: pytest names its entry by the module; its node id is the file.
  if (!classname && (name === module || module.endsWith(`.${name}`))) return file;
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
