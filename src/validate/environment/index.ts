/** The environment stage (docs/environments.md): what the validation pipeline and the CLI call. */
export { EnvironmentConfigSchema, type EnvironmentConfig } from './config.js';
export { botCacheDir, cliCacheDir, readEnvironmentSettings, type EnvironmentSettings } from './env.js';
export { EnvironmentCache } from './cache.js';
export {
  environmentCache,
  prepareEnvironment,
  type Distribution,
  type EnvironmentInput,
  type EnvironmentLog,
  type EnvironmentPorts,
  type InstalledDependencies,
  type NotInstallable,
  type PreparedEnvironment,
} from './prepare.js';
