import { z } from 'zod';
import type { ValidationConfig } from '../../config/schema.js';
import type { ReadySandbox } from '../../sandbox/select.js';
import type { StageOutcome } from '../report.js';
import type { TestRuntime } from '../runtime.js';
import type { SourceFile } from '../source.js';
import type { EnvironmentCache } from './cache.js';
import type { EnvironmentSettings } from './env.js';

// What the environment stage takes and gives: shared by prepare.ts (the stage, light to load) and
// install.ts (the installing, loaded only when there is something to install).

export interface EnvironmentInput {
  /** Host path of the run's work folder (seen at /work). */
  readonly root: string;
  readonly files: readonly SourceFile[];
  readonly config: ValidationConfig;
  /** The requirements the model's own solution added (its `dependencies`), when known: their failures are repair feedback. */
  readonly solutionRequirements?: readonly string[];
}

/** Log lines as a fixed message and a metadata object (pino's order). */
export interface EnvironmentLog {
  info(meta: Record<string, unknown>, message: string): void;
  warn(meta: Record<string, unknown>, message: string): void;
}

export interface EnvironmentPorts {
  readonly sandbox: ReadySandbox;
  readonly settings: EnvironmentSettings;
  readonly signal?: AbortSignal;
  /** By default the process's one cache for settings.cacheDir (so concurrent tasks share its locks). */
  readonly cache?: EnvironmentCache;
  readonly log?: EnvironmentLog;
}

export const DistributionSchema = z.object({ name: z.string(), version: z.string(), top: z.array(z.string()) });
export type Distribution = z.infer<typeof DistributionSchema>;

/** A declared requirement pip could not install. */
export interface NotInstallable {
  /** Normalised name; null when pip named none. */
  readonly name: string | null;
  readonly path: string;
  readonly line: number;
  readonly reason: string;
  /** It came from the model's own solution (its `dependencies`): repair feedback. */
  readonly fromSolution: boolean;
}

/** What the dependencies stage needs to tell "declared and installed" from "declared but not installable". */
export interface InstalledDependencies {
  /** Every distribution the tests can import from (the environment's and the interpreter's own). */
  readonly distributions: readonly Distribution[];
  readonly failed: readonly NotInstallable[];
}

export interface PreparedEnvironment {
  readonly stage: StageOutcome;
  readonly runtime: TestRuntime;
  /** The Python that runs the tests. */
  readonly python: { readonly version: string; readonly path: string; readonly note?: string };
  /** Null when nothing was to be installed (the stage is skipped). */
  readonly installed: InstalledDependencies | null;
  /** Whether the environment came from the cache (no install ran). */
  readonly cached: boolean;
  /** Ends the run's use of the environment: call it once the tests (and mutation runs) are over. */
  dispose(): Promise<void>;
}

/** A prepared environment whose `dispose` runs `cleanups` once, however often it is called. */
export function preparedEnvironment(
  outcome: StageOutcome,
  runtime: TestRuntime,
  python: PreparedEnvironment['python'],
  installed: InstalledDependencies | null,
  cached: boolean,
  cleanups: ReadonlyArray<() => Promise<void> | void>,
): PreparedEnvironment {
  let disposed: Promise<void> | null = null;
  return {
    stage: outcome,
    runtime,
    python,
    installed,
    cached,
    dispose: () => (disposed ??= Promise.all(cleanups.map((c) => c())).then(() => undefined)),
  };
}
