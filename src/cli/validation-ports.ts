import { join } from 'node:path';
import type { ReadySandbox } from '../sandbox/select.js';
import { cliCacheRoot } from '../config/cache-root.js';
import { FolderBaselineCache } from '../validate/change/file-cache.js';
import { readEnvironmentSettings } from '../validate/environment/env.js';
import { environmentPort } from '../validate/environment/port.js';
import { readOperatorLimits } from '../validate/limits.js';

/**
 * What the CLI's validations use beside the sandbox and Ruff, from its environment: the environment stage
 * (installing from CODE4PY_PIP_INDEX_URL into the cache folder), the operator's limits, and the cache of
 * base results (CODE4PY_CACHE_DIR, else ~/.cache/code4py).
 */
export function cliValidationPorts(env: NodeJS.ProcessEnv, sandbox: ReadySandbox) {
  return {
    environment: environmentPort(sandbox, readEnvironmentSettings(env)),
    maxima: readOperatorLimits(env),
    baselines: new FolderBaselineCache(join(cliCacheRoot(env), 'baselines')),
  };
}
