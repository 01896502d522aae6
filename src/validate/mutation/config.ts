import { z } from 'zod';

/**
 * `mutation:` in `.github/code4py.yml`: how hard the mutation stage tries, and whether a low score fails
 * validation. Each field's `.describe()` is the text editors show for it (the config's JSON Schema).
 */
export const MutationConfigSchema = z
  .object({
    /** Wall-clock seconds the stage may take; past them, the mutants not yet run are left out of a sampled report. 0 turns the stage off. */
    budget_seconds: z
      .number()
      .min(0)
      .max(3600)
      .default(30)
      .describe('Wall-clock seconds the mutation stage may take; when its mutants need longer, a seeded random sample of them is run and the report says how many. 0 turns the stage off.'),
    /** Test-strengthening rounds: how many times surviving mutants go back to the model for better tests (0: never). */
    rounds: z
      .number()
      .int()
      .min(0)
      .max(5)
      .default(1)
      .describe('How many times the surviving mutants go back to the model for stronger tests (0: never). The code under test is not changed by these rounds.'),
    /** Mutation score, in percent, below which the stage warns, or fails with `fail`. Unset: no threshold. */
    min_score: z
      .number()
      .min(0)
      .max(100)
      .optional()
      .describe('The mutation score (percent of the tested mutants that some test kills) below which the stage warns, or fails with `fail: true`. Unset: no threshold.'),
    /** When true, a score below `min_score` fails validation instead of warning. */
    fail: z.boolean().default(false).describe('When true, a mutation score below `min_score` fails validation instead of warning.'),
  })
  .strict()
  .superRefine((config, context) => {
    if (config.fail && config.min_score === undefined) {
      context.addIssue({ code: 'custom', path: ['fail'], message: 'fail: true needs min_score, the score below which validation fails (for example min_score: 80)' });
    }
  })
  .prefault({})
  .describe('Mutation testing of the changed lines: whether the tests notice small faults put into the code.');

export type MutationConfig = z.infer<typeof MutationConfigSchema>;
