import { z } from 'zod';
import { parseJsonOrNull } from '../../json.js';

/**
 * The lines python/mutate.py appends to mutants.jsonl, one JSON object each. The file is written by the
 * sandboxed run, so every line is parsed here; a line that does not parse (the last one of a run killed
 * while writing) is counted and skipped.
 */
export const MadeMutantSchema = z.object({
  id: z.number().int().nonnegative(),
  path: z.string(),
  line: z.number().int().positive(),
  operator: z.string().max(40),
  original: z.string().max(1000),
  mutated: z.string().max(1000),
  /** How many tests ran the mutant's line; 0: none, so it is not run. */
  tests: z.number().int().nonnegative(),
});
export type MadeMutant = z.infer<typeof MadeMutantSchema>;

const RUN_STATUSES = ['killed', 'survived', 'timedOut', 'error'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

const RecordSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('note'), path: z.string(), message: z.string().max(2000) }),
  z.object({ kind: z.literal('mutants'), mutants: z.array(MadeMutantSchema) }),
  z.object({
    kind: z.literal('baseline'),
    status: z.enum(['passed', 'failed', 'timedOut']),
    seconds: z.number().nonnegative(),
    tests: z.number().int().nonnegative(),
    output: z.string().max(4000),
  }),
  z.object({ kind: z.literal('result'), id: z.number().int().nonnegative(), status: z.enum(RUN_STATUSES), seconds: z.number().nonnegative() }),
  z.object({
    kind: z.literal('done'),
    stopped: z.enum(['budget', 'baseline']).nullable(),
    seconds: z.number().nonnegative(),
    /** CPU time of the whole run: the fork server and every child. */
    cpuSeconds: z.number().nonnegative().optional(),
  }),
]);
type MutationRecord = z.infer<typeof RecordSchema>;

export type Baseline = Extract<MutationRecord, { kind: 'baseline' }>;

/** What one mutation run reported. */
export interface MutationRecords {
  readonly mutants: readonly MadeMutant[];
  /** Mutant id → how its run ended, for the mutants that ran. */
  readonly results: ReadonlyMap<number, { readonly status: RunStatus; readonly seconds: number }>;
  readonly baseline: Baseline | null;
  /** null while the run has not said it is done (it was killed, or crashed). */
  readonly done: { readonly stopped: 'budget' | 'baseline' | null; readonly seconds: number; readonly cpuSeconds?: number | undefined } | null;
  readonly notes: readonly { readonly path: string; readonly message: string }[];
  /** Lines that were not records (a cut-off last line, or anything else). */
  readonly unreadable: number;
}

export function readRecords(text: string): MutationRecords {
  let mutants: MadeMutant[] = [];
  const results = new Map<number, { status: RunStatus; seconds: number }>();
  const notes: { path: string; message: string }[] = [];
  let baseline: Baseline | null = null;
  let done: MutationRecords['done'] = null;
  let unreadable = 0;
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const parsed = RecordSchema.safeParse(parseJsonOrNull(line));
    if (!parsed.success) {
      unreadable++;
      continue;
    }
    const record = parsed.data;
    if (record.kind === 'mutants') mutants = record.mutants;
    else if (record.kind === 'result') results.set(record.id, { status: record.status, seconds: record.seconds });
    else if (record.kind === 'baseline') baseline = record;
    else if (record.kind === 'note') notes.push({ path: record.path, message: record.message });
    else done = { stopped: record.stopped, seconds: record.seconds, cpuSeconds: record.cpuSeconds };
  }
  return { mutants, results, baseline, done, notes, unreadable };
}
