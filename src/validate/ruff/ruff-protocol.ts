import { z } from 'zod';

/**
 * Ruff's own options, as ruff.toml spells them (`line-length`, `lint.select`, `format.quote-style`, …),
 * for one Workspace. project-settings.ts builds them from the repository's configuration; Ruff checks them.
 */
export const RuffOptionsSchema = z.record(z.string(), z.unknown());
export type RuffOptions = z.infer<typeof RuffOptionsSchema>;

/** One Ruff run over some of the request's files with one set of options (a Workspace checks a text, not a path). */
export const RuffPassSchema = z.object({
  options: RuffOptionsSchema,
  paths: z.array(z.string()),
  /** Run `ruff check` (the default); false runs only the formatter. */
  check: z.boolean().optional(),
  /** Also run `ruff format` on the files that parse. */
  format: z.boolean(),
  /** Judge the code as if it had no suppression comments (`# noqa`, `# ruff: noqa`): the code under test must not waive its own checks. */
  ignoreSuppressions: z.boolean().optional(),
});
export type RuffPass = z.infer<typeof RuffPassSchema>;

/** Each file's text travels once, however many passes read it. */
export const RuffRequestSchema = z.object({
  files: z.array(z.object({ path: z.string(), text: z.string() })),
  passes: z.array(RuffPassSchema),
});
export type RuffRequest = z.infer<typeof RuffRequestSchema>;

const Location = z.object({ row: z.number().int(), column: z.number().int() });

/** One replacement of a fix: the text from `location` to `end_location` becomes `content` (null deletes it). */
export const RuffEditSchema = z.object({ location: Location, end_location: Location, content: z.string().nullable() });
export type RuffEdit = z.infer<typeof RuffEditSchema>;

/** The fields Code4Py reads of a Ruff diagnostic (rows and columns are 1-based, columns in UTF-16 units). */
export const RuffDiagnosticSchema = z.object({
  /** The rule code; null or `invalid-syntax` for a syntax error. */
  code: z.string().nullable(),
  message: z.string(),
  start_location: Location,
  end_location: Location,
  /** Ruff's fix, when it has one. Ruff's WebAssembly build does not say whether the fix is safe: see safe-fixes.ts. */
  fix: z
    .object({ message: z.string().nullable(), edits: z.array(RuffEditSchema) })
    .nullable()
    .optional(),
});
export type RuffDiagnostic = z.infer<typeof RuffDiagnosticSchema>;

export const RuffFileResultSchema = z.object({
  path: z.string(),
  diagnostics: z.array(RuffDiagnosticSchema),
  /** `ruff format`'s output when it differs from the text; null when unchanged or not formatted. */
  formatted: z.string().nullable(),
  /** Set when Ruff itself failed on this file. */
  error: z.string().nullable(),
});
export type RuffFileResult = z.infer<typeof RuffFileResultSchema>;

export const RuffPassResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), files: z.array(RuffFileResultSchema) }),
  /** The options were refused (an unknown rule selector, say): nothing was checked. */
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type RuffPassResult = z.infer<typeof RuffPassResultSchema>;

export const RuffResponseSchema = z.object({
  version: z.string(),
  /** In the order of the request's passes. */
  passes: z.array(RuffPassResultSchema),
});
export type RuffResponse = z.infer<typeof RuffResponseSchema>;

/** What RuffHost gives its worker as it starts (`workerData`). */
export interface WorkerData {
  readonly warmUp: boolean;
}

/** Messages between RuffHost and its worker. */
export const WorkerRequestSchema = z.object({ id: z.number().int(), request: RuffRequestSchema });
export type WorkerRequest = z.infer<typeof WorkerRequestSchema>;

export const WorkerReplySchema = z.discriminatedUnion('ok', [
  z.object({ id: z.number().int(), ok: z.literal(true), response: RuffResponseSchema }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);
export type WorkerReply = z.infer<typeof WorkerReplySchema>;

export { isSyntaxDiagnostic } from './syntax-diagnostic.js';
