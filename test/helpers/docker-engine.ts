import { it } from 'vitest';
import { findDockerClient, type DockerClient } from '../../src/sandbox/select.js';

/** A container engine for the live docker tests, found once per test file. */
export interface DockerEngine {
  /** The engine's client, or null where none answers. */
  readonly client: DockerClient | null;
  /** Why no engine answers, as findDockerClient says it ('' when one does). */
  readonly problem: string;
  /** CODE4PY_REQUIRE_DOCKER=1 (CI): without an engine the live tests fail instead of being skipped. */
  readonly required: boolean;
  /** No engine answers, and none is required: the live tests are skipped. */
  readonly skip: boolean;
  /** `name version` of the engine, or `no engine`. */
  readonly label: string;
  /** `it` for a test against the engine: where it is skipped, its name says why and how to make it run. */
  live(name: string, fn: () => Promise<void>, timeout?: number): void;
}

/** Looks for the engine (docker, or podman) the docker sandbox would use. */
export async function findDockerEngine(): Promise<DockerEngine> {
  const required = process.env.CODE4PY_REQUIRE_DOCKER === '1';
  const { client, problem } = await findDockerClient().then(
    (found) => ({ client: found, problem: '' }),
    (error: unknown) => ({ client: null, problem: (error as Error).message }),
  );
  const skip = client === null && !required;
  const reason = problem.replace(/\.( Start the engine.*)?$/, '');
  const skipped = skip ? ` [skipped: ${reason}; CODE4PY_REQUIRE_DOCKER=1 makes this fail]` : '';
  return {
    client,
    problem,
    required,
    skip,
    label: client ? `${client.name} ${client.version}` : 'no engine',
    live: (name, fn, timeout) => it.skipIf(skip)(name + skipped, fn, timeout),
  };
}
