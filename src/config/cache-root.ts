import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * The CLI's cache folder (baselines, environments, probes, the server's socket): CODE4PY_CACHE_DIR, else
 * $XDG_CACHE_HOME/code4py, else ~/.cache/code4py. Only Node's own modules here: the command reads it first.
 */
export function cliCacheRoot(env: NodeJS.ProcessEnv): string {
  if (env.CODE4PY_CACHE_DIR) return env.CODE4PY_CACHE_DIR;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'code4py');
}
