import { z } from 'zod';

/** The Ruff settings Code4Py uses, in its own words; ruff-engine.ts turns them into Ruff's options. */
export const RuffSettingsSchema = z.object({
  select: z.array(z.string()),
  ignore: z.array(z.string()),
  lineLength: z.number().int().positive().optional(),
  /** Top-level module names of the code itself, so isort (I001) groups them as first-party. */
  knownFirstParty: z.array(z.string()).optional(),
});
export type RuffSettings = z.infer<typeof RuffSettingsSchema>;

/** One Ruff run over some of the request's files with one set of settings (Ruff has no per-file settings here). */
export const RuffPassSchema = z.object({
  settings: RuffSettingsSchema,
  paths: z.array(z.string()),
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

/** The fields Code4Py reads of a Ruff diagnostic (rows and columns are 1-based, columns in UTF-16 units). */
export const RuffDiagnosticSchema = z.object({
  /** The rule code; null or `invalid-syntax` for a syntax error. */
  code: z.string().nullable(),
  message: z.string(),
  start_location: Location,
  end_location: Location,
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
  /** The settings were refused (an unknown rule selector, say): nothing was checked. */
  z.object({ ok: z.literal(false), error: z.string() }),
]);
export type RuffPassResult = z.infer<typeof RuffPassResultSchema>;

export const RuffResponseSchema = z.object({
  version: z.string(),
  /** In the order of the request's passes. */
  passes: z.array(RuffPassResultSchema),
});
export type RuffResponse = z.infer<typeof RuffResponseSchema>;

/** Messages between RuffHost and its worker. */
export const WorkerRequestSchema = z.object({ id: z.number().int(), request: RuffRequestSchema });
export type WorkerRequest = z.infer<typeof WorkerRequestSchema>;

export const WorkerReplySchema = z.discriminatedUnion('ok', [
  z.object({ id: z.number().int(), ok: z.literal(true), response: RuffResponseSchema }),
  z.object({ id: z.number().int(), ok: z.literal(false), error: z.string() }),
]);
export type WorkerReply = z.infer<typeof WorkerReplySchema>;

/** A syntax error, which the syntax stage reports with Python's own parser. */
export function isSyntaxDiagnostic(diagnostic: RuffDiagnostic): boolean {
  return diagnostic.code === null || diagnostic.code === 'invalid-syntax';
}
