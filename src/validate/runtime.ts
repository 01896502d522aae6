import type { Mount } from '../sandbox/types.js';

/**
 * How the project's code runs in the sandbox: which Python, what is mounted beside the work folder, and
 * which tool settings it gets. The environment stage (the project's dependencies installed in a virtual
 * environment) makes one; without it, the sandbox's own Python runs the tests with what it has.
 * The tests stage and the mutation stage run under the same runtime.
 */
export interface TestRuntime {
  /** The interpreter inside the sandbox: `python` (the sandbox's own) or an absolute path such as /env/bin/python. */
  readonly python: string;
  /** Read-only or writable folders the runtime needs (the cached environment, the run's own layer). */
  readonly mounts: readonly Mount[];
  /** Extra tool settings for the run (names the sandbox allows: PYTHON*, PYTEST_*, COVERAGE_*, …). */
  readonly env: Readonly<Record<string, string>>;
  /**
   * Whether pytest may load the plugins installed in the environment (the project's own pytest plugins,
   * declared in its requirements). Off for the sandbox's bare Python.
   */
  readonly pluginAutoload: boolean;
}

/** The sandbox's own Python, nothing installed: what runs the tests when there is no environment stage. */
export const SYSTEM_RUNTIME: TestRuntime = Object.freeze({ python: 'python', mounts: [], env: {}, pluginAutoload: false });
