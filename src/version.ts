import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { packageRoot } from './validate/python-scripts.js';

const PackageJsonSchema = z.object({ name: z.string().min(1), version: z.string().min(1) });

let cached: { readonly name: string; readonly version: string } | undefined;

/** This package's name and version, from its package.json (the one that ships with the code). */
export function packageInfo(): { readonly name: string; readonly version: string } {
  cached ??= Object.freeze(PackageJsonSchema.parse(JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8'))));
  return cached;
}
