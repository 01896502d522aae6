import { z } from 'zod';
import { describeIssues } from './load.js';
import { ValidationConfigSchema } from './schema.js';

/** GitHub's collaborator permission levels, lowest first. */
export const PERMISSIONS = ['read', 'triage', 'write', 'maintain', 'admin'] as const;
export type Permission = (typeof PERMISSIONS)[number];

export const DEFAULT_ALLOWED_PATHS = ['**/*.py', 'requirements*.txt'] as const;

const glob = z.string().trim().min(1, 'a glob such as src/**/*.py');

// Each field's `.describe()` is its documentation: it lands in the JSON Schema that editors show on hover.
const PathsSchema = z
  .strictObject({
    allow: z
      .array(glob)
      .min(1, 'list at least one glob, or leave paths.allow out for the default')
      .default([...DEFAULT_ALLOWED_PATHS])
      .describe('Globs (picomatch, dot: false) a written file must match one of.'),
    deny: z.array(glob).default([]).describe('Globs no written file may match; they win over allow.'),
    max_files: z.number().int().min(1).max(200).default(20).describe('How many files one generation may write; the files after the limit are not written.'),
    max_bytes: z
      .number()
      .int()
      .min(1024)
      .max(16 * 1024 * 1024)
      .default(512 * 1024)
      .describe('How many bytes of file content (or patch text) one generation may write in all.'),
  })
  .prefault({})
  .describe('Where the generated files may be written. Dot-folders (.github/, .git/), absolute paths, `..`, symbolic links and submodules are refused whatever these say.');

/**
 * The whole of `.github/code4py.yml`: the validation settings (`tests`, `lint`, `security`, `dependencies`,
 * `limits`, owned by `schema.ts`) and the bot's own. Every key is optional; an unknown key is an error, so
 * a typo never silently falls back to a default.
 */
export const RepoConfigSchema = z.strictObject({
  ...ValidationConfigSchema.shape,
  label: z.string().trim().min(1).max(50, 'GitHub labels are at most 50 characters').default('code4py').describe('The label that, added to an issue, starts a task.'),
  command: z
    .string()
    .trim()
    .regex(/^\/[A-Za-z0-9][A-Za-z0-9_-]{0,38}$/, 'a slash and a word of letters, digits, - or _, such as /code4py')
    .default('/code4py')
    .describe('The command word of comment commands, such as `/code4py retry`. Matched case-insensitively at the start of a line.'),
  permission: z.enum(PERMISSIONS).default('write').describe('The least collaborator permission whose holder may start, refine, retry or cancel work.'),
  model: z.string().trim().min(1).max(200).optional().describe("The model for this repository, instead of the operator's CODE4PY_MODEL."),
  max_attempts: z.number().int().min(1).max(10).default(3).describe('How many generations (the first and the repairs) a task may try before it reports failure.'),
  max_tokens_per_task: z
    .number()
    .int()
    .min(1000)
    .max(10_000_000)
    .default(200_000)
    .describe('Model tokens (prompt and completion, all calls) one task may spend; the task stops with a message when it would spend more.'),
  paths: PathsSchema,
  context: z
    .strictObject({
      max_tokens: z
        .number()
        .int()
        .min(1000)
        .max(200_000)
        .default(12_000)
        .describe('Tokens the repository context (map, conventions, relevant files) may cost in the solution prompt; it never costs more.'),
      embeddings_model: z
        .string()
        .trim()
        .min(1, 'an embeddings model name such as text-embedding-3-small, or leave the key out')
        .max(200)
        .optional()
        .describe(
          "An embeddings model of the operator's OpenAI-compatible endpoint (POST /embeddings), such as text-embedding-3-small or nomic-embed-text. When set, the modules BM25 ranks best are reranked by how close their map entries are to the task; left out, BM25 alone ranks them.",
        ),
    })
    .prefault({})
    .describe('What of the repository the model is shown beside the task.'),
  draft: z.boolean().default(false).describe('When every attempt fails, also open a draft pull request with the last attempt and its failing check (otherwise only a comment).'),
  _extends: z.string().optional().describe("Probot's inheritance: start from another repository's file, e.g. `.github` (the organisation's) or `owner/repo:path.yml`."),
});

export type RepoConfig = z.infer<typeof RepoConfigSchema>;
export type PathsConfig = RepoConfig['paths'];

export type RepoConfigResult = { readonly ok: true; readonly config: RepoConfig } | { readonly ok: false; readonly message: string };

export const CONFIG_PATH = '.github/code4py.yml';

/**
 * Parses what Probot's `context.config('code4py.yml')` returned (parsed YAML, or null when the repository has
 * no such file). On failure, `message` is a markdown comment naming every key and its problem.
 */
export function parseRepoConfig(raw: unknown): RepoConfigResult {
  if (raw === null || raw === undefined) return { ok: true, config: RepoConfigSchema.parse({}) };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    const got = Array.isArray(raw) ? 'a list' : typeof raw === 'string' ? 'a single string' : typeof raw;
    return { ok: false, message: invalidMessage(`  - (top level): the file must be a mapping of keys (such as \`max_attempts: 3\`), not ${got}`) };
  }
  const parsed = RepoConfigSchema.safeParse(raw);
  if (parsed.success) return { ok: true, config: parsed.data };
  return { ok: false, message: invalidMessage(describeIssues(parsed.error.issues)) };
}

export function defaultRepoConfig(): RepoConfig {
  return RepoConfigSchema.parse({});
}

function invalidMessage(problems: string): string {
  return [
    `⚠️ Code4Py did not start: \`${CONFIG_PATH}\` has settings it cannot use.`,
    '',
    fenced(problems),
    '',
    `Fix or remove these keys (every key is optional; a key left out takes its default), commit the file, then trigger Code4Py again. The README lists every key with its default.`,
  ].join('\n');
}

/** A code block the text cannot break out of: key names come from the repository's file, not from us. */
function fenced(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}text\n${text}\n${fence}`;
}

/** The doc comments of the validation keys, which `schema.ts` keeps as comments only. */
const VALIDATION_DESCRIPTIONS: Readonly<Record<string, string>> = {
  tests: 'How the tests run.',
  'tests.timeout_seconds': 'Wall-clock seconds the whole test run may take before it is killed.',
  'tests.coverage_min': 'Coverage (percent) of the non-test files below which the coverage stage warns (or fails, see coverage_fail).',
  'tests.coverage_fail': 'When true, coverage below coverage_min fails validation instead of warning.',
  lint: "Ruff lint settings. The repository's own Ruff settings ([tool.ruff] in pyproject.toml, ruff.toml, .ruff.toml) apply; each key here overrides only what it names.",
  'lint.select': "Ruff rule codes or prefixes to check instead of the repository's selection (as Ruff's --select). Left out: the repository's selection, else E, F, W, B, I, UP.",
  'lint.ignore': "Ruff rule codes or prefixes to leave out, on top of the repository's selection (as Ruff's --ignore).",
  'lint.line_length': "Maximum line length instead of the repository's line-length (as Ruff's --line-length). Left out: the repository's, else 88.",
  'lint.format': 'Whether code that `ruff format` (with the repository\'s [format] settings) would change is reported, and generated files are formatted. Left out: true.',
  'lint.fail': 'When true, lint findings fail validation instead of warning. Left out: false.',
  security: 'Security checks (bandit rules, as Ruff runs them).',
  'security.fail_on': 'The lowest bandit severity that fails validation; lower ones are warnings.',
  'security.ignore': 'Security rules to leave out (e.g. S311 where randomness is not for secrets).',
  dependencies: 'Checks of the declared requirements.',
  'dependencies.strict': 'When true, a third-party import that no requirement declares fails validation.',
  limits: 'Limits on the repository files read and copied into the sandbox, and on each sandboxed run (the wall time of the test run is tests.timeout_seconds).',
  'limits.max_file_bytes': 'Files larger than this are not copied into the sandbox.',
  'limits.max_files': 'The repository may hold at most this many files.',
  'limits.max_total_bytes': 'The repository may hold at most this many bytes in all.',
  'limits.memory_mb': "Memory (MiB) for each sandboxed run, all its processes together (a cgroup's limit); up to the operator's CODE4PY_MAX_MEMORY_MB.",
  'limits.processes': "Processes and threads for each sandboxed run, all together; up to the operator's CODE4PY_MAX_PROCESSES.",
  'limits.output_mb': "Output (MiB) kept of each stream of a sandboxed run; up to the operator's CODE4PY_MAX_OUTPUT_MB.",
};

type JsonSchemaNode = { description?: string; properties?: Record<string, JsonSchemaNode> } & Record<string, unknown>;

/** The JSON Schema of `.github/code4py.yml`, for editors (YAML language server, JetBrains). Every key is described. */
export function repoConfigJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(RepoConfigSchema, { io: 'input', target: 'draft-7' }) as JsonSchemaNode;
  const describe = (node: JsonSchemaNode, prefix: string): void => {
    for (const [key, child] of Object.entries(node.properties ?? {})) {
      const path = prefix ? `${prefix}.${key}` : key;
      child.description ??= VALIDATION_DESCRIPTIONS[path];
      describe(child, path);
    }
  };
  describe(schema, '');
  return { ...schema, title: 'Code4Py repository configuration (.github/code4py.yml)' };
}
