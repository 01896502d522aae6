import { constants } from 'node:fs';
import { open } from 'node:fs/promises';

/**
 * Reads a file the sandboxed run wrote. The run could have swapped it for a link to a host file, so links
 * are not followed, only regular files are read, and only up to `maxBytes`.
 */
export async function readOutput(path: string, maxBytes: number): Promise<string | null> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return null;
  try {
    const stat = await handle.stat();
    if (!stat.isFile() || stat.size > maxBytes) return null;
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}
