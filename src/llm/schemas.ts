import { z } from 'zod';

/** What kind of task the issue describes; steers the examples the solution prompt shows. */
export const INTENTS = ['algorithm', 'data_processing', 'web_scraping', 'automation', 'cli', 'api_client', 'file_io', 'other'] as const;
export type Intent = (typeof INTENTS)[number];

const text = z.string().trim();
const nonEmpty = (what: string) => text.min(1, `${what} must not be empty`);

/** Models often answer `My-Module` for a module name; normalising is cheaper than a corrective retry. */
const moduleName = nonEmpty('module')
  .transform((name) => name.replace(/\.py$/, '').replace(/[^A-Za-z0-9_]+/g, '_').replace(/^_+|_+$/g, '').toLowerCase())
  .transform((name) => (/^[0-9]/.test(name) ? `_${name}` : name))
  .refine((name) => name.length > 0, 'module must be a snake_case Python module name such as word_count');

/** `code4py_analysis`: the task as understood, before any code. */
export const AnalysisSchema = z
  .object({
    intent: z.enum(INTENTS),
    /** Title for the pull request. */
    title: nonEmpty('title').max(200, 'title must be at most 200 characters'),
    /** The snake_case module the code goes in. */
    module: moduleName,
    requirements: z.array(nonEmpty('a requirement')),
    assumptions: z.array(text),
    needs_clarification: z.boolean(),
    /** Questions for the author; only meaningful with `needs_clarification`. */
    questions: z.array(nonEmpty('a question')),
  })
  .refine((a) => !a.needs_clarification || a.questions.length > 0, {
    message: 'needs_clarification is true, so questions must hold at least one question',
    path: ['questions'],
  });
export type Analysis = z.infer<typeof AnalysisSchema>;

export const SolutionFileSchema = z
  .object({
    /** Relative to the repository root, forward slashes; the path policy decides whether it is written. */
    path: nonEmpty('path'),
    /** The whole file (new, or replacing the file on the base branch). */
    content: z.string().nullable(),
    /** A unified diff against the file as it is on the base branch. */
    patch: z.string().nullable(),
  })
  .refine((f) => (f.content === null) !== (f.patch === null), {
    message: 'give exactly one of content (the whole file) or patch (a unified diff); set the other to null',
  });
export type SolutionFile = z.infer<typeof SolutionFileSchema>;

/** `code4py_solution`: first generation, every repair and every refinement. */
export const SolutionSchema = z.object({
  summary: nonEmpty('summary'),
  files: z.array(SolutionFileSchema).min(1, 'files must hold at least one file (the code and its tests)'),
  /** Requirement specifiers of third-party packages the code imports, e.g. `requests>=2`. */
  dependencies: z.array(nonEmpty('a dependency')),
});
export type Solution = z.infer<typeof SolutionSchema>;

/*
 * The JSON Schemas sent as `response_format`. Written by hand rather than generated from the zod
 * schemas because OpenAI's strict mode accepts only a subset (every property required,
 * `additionalProperties: false`, nullable as a type list) and the generated form varies between zod
 * versions; test/llm/schemas.test.ts keeps the two in step.
 */
const strings = (description: string) => ({ type: 'array', items: { type: 'string' }, description });

export const ANALYSIS_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['intent', 'title', 'module', 'requirements', 'assumptions', 'needs_clarification', 'questions'],
  properties: {
    intent: { type: 'string', enum: [...INTENTS], description: 'the kind of task' },
    title: { type: 'string', description: 'short title for the pull request' },
    module: { type: 'string', description: 'snake_case Python module name for the code' },
    requirements: strings('testable requirements, one per item'),
    assumptions: strings('assumptions made where the issue is silent'),
    needs_clarification: { type: 'boolean', description: 'true only if the task cannot be done without an answer' },
    questions: strings('questions for the issue author; empty unless needs_clarification'),
  },
} as const;

export const SOLUTION_JSON_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  required: ['summary', 'files', 'dependencies'],
  properties: {
    summary: { type: 'string', description: 'what was built and why' },
    files: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['path', 'content', 'patch'],
        properties: {
          path: { type: 'string', description: 'relative path, forward slashes' },
          content: { type: ['string', 'null'], description: 'full file text, or null when patch is given' },
          patch: { type: ['string', 'null'], description: 'unified diff against the base branch, or null when content is given' },
        },
      },
    },
    dependencies: strings('third-party requirement specifiers, e.g. requests>=2'),
  },
} as const;

/** The two structured answers, by the `json_schema.name` the request carries. */
export const ANSWER_KINDS = {
  code4py_analysis: { schema: AnalysisSchema, jsonSchema: ANALYSIS_JSON_SCHEMA },
  code4py_solution: { schema: SolutionSchema, jsonSchema: SOLUTION_JSON_SCHEMA },
} as const;
export type AnswerName = keyof typeof ANSWER_KINDS;
