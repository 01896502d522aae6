import type { ReadySandbox } from '../../sandbox/select.js';
import type { EnvironmentPort, PreparedRuntime } from '../pipeline.js';
import type { EnvironmentSettings } from './env.js';
import type { EnvironmentLog } from './prepare.js';

/**
 * The environment stage as the validation pipeline calls it: the workspace's declared dependencies and the
 * project itself installed (or taken from the cache) before its tests run.
 */
export function environmentPort(sandbox: ReadySandbox, settings: EnvironmentSettings, log?: EnvironmentLog): EnvironmentPort {
  return {
    identity: JSON.stringify({
      indexes: [settings.index, ...settings.extraIndexes].map((index) => index.url),
      hosts: settings.allowedHosts.map(({ host, port }) => `${host}:${port}`),
      pythons: settings.pythons,
    }),
    async prepare(workspace, config, signal, hints): Promise<PreparedRuntime> {
      // Loaded when a validation first needs it: a process that only lints never pays for pip's helpers.
      const { prepareEnvironment } = await import('./prepare.js');
      const prepared = await prepareEnvironment(
        { root: workspace.root, files: workspace.files, config, ...(hints?.solutionRequirements ? { solutionRequirements: hints.solutionRequirements } : {}) },
        { sandbox, settings, ...(signal ? { signal } : {}), ...(log ? { log } : {}) },
      );
      return { stage: prepared.stage, runtime: prepared.runtime, python: prepared.python, installed: prepared.installed, dispose: () => prepared.dispose() };
    },
  };
}
