import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package's root folder, found from this file whether it runs from src/ (tests) or dist/src/ (built). */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'python'))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error('cannot find the code4py package folder (with package.json and python/)');
    dir = parent;
  }
  return dir;
}

const scripts = new Map<string, string>();

/**
 * The text of one of the package's Python helpers (python/NAME.py). They are handed to the sandbox as
 * `python -c TEXT`, so nothing of the bot's own folder needs to be mounted.
 */
export function pythonScript(name: 'validate' | 'repo_map' | 'environment' | 'mutate'): string {
  let text = scripts.get(name);
  if (text === undefined) {
    text = readFileSync(join(packageRoot(), 'python', `${name}.py`), 'utf8');
    scripts.set(name, text);
  }
  return text;
}
