import { sortFindings, stage } from '../report.js';
import { SYSTEM_RUNTIME } from '../runtime.js';
import { readDeclarations } from './declarations.js';
import { preparedEnvironment, type EnvironmentInput, type EnvironmentPorts, type PreparedEnvironment } from './prepared.js';

export type { Distribution, EnvironmentInput, EnvironmentLog, EnvironmentPorts, InstalledDependencies, NotInstallable, PreparedEnvironment } from './prepared.js';

/**
 * The environment stage: the project's declared dependencies installed in a cached virtual environment,
 * the project itself in the run's own layer, and the runtime the tests then run under. Nothing declared
 * and nothing to install: skipped, the sandbox's own runtime, at no cost.
 */
export async function prepareEnvironment(input: EnvironmentInput, ports: EnvironmentPorts): Promise<PreparedEnvironment> {
  const options = input.config.environment;
  const declared = readDeclarations(input.files, options);
  const own = { version: ports.sandbox.python.version, path: ports.sandbox.sandbox.python };
  if (declared.requirements.length === 0 && !declared.project && options.setup.length === 0 && !options.python) {
    const findings = sortFindings(declared.notes);
    return preparedEnvironment(stage('environment', 'skipped', 'nothing to install', findings), SYSTEM_RUNTIME, own, null, false, []);
  }
  // Loaded only now: a project with nothing to install never loads pip's helpers, the cache's locks or the
  // interpreter registry (tens of milliseconds before a one-test validation's first sandbox run).
  const { installEnvironment } = await import('./install.js');
  return installEnvironment(input, ports, declared, own);
}
