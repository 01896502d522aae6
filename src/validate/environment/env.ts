import { dirname, isAbsolute, join, resolve } from 'node:path';
import { inspect } from 'node:util';
import { z } from 'zod';
import { cliCacheRoot } from '../../config/cache-root.js';
import { UsageError } from '../../errors.js';
import type { HostPort } from './proxy.js';

export const DEFAULT_INDEX_URL = 'https://pypi.org/simple';
/** Where PyPI's simple pages send pip for the files. */
const PYPI_FILES_HOST = 'files.pythonhosted.org';
export const DEFAULT_CACHE_MAX_MB = 5120;

/** Index credentials, kept out of every log line and report: printing or serialising one shows nothing. */
export class IndexCredentials {
  readonly #username: string;
  readonly #password: string;
  constructor(username: string, password: string) {
    this.#username = username;
    this.#password = password;
  }
  get username(): string {
    return this.#username;
  }
  get password(): string {
    return this.#password;
  }
  toJSON(): string {
    return '[REDACTED]';
  }
  [inspect.custom](): string {
    return 'IndexCredentials [REDACTED]';
  }
}

/** A package index: its URL without credentials (safe to log, part of the cache key) and its credentials apart. */
export interface PackageIndex {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly credentials: IndexCredentials | null;
}

/** The operator's settings for the environment stage, parsed once. */
export interface EnvironmentSettings {
  readonly index: PackageIndex;
  readonly extraIndexes: readonly PackageIndex[];
  /** Every host the install run may reach: the indexes' own and CODE4PY_ALLOWED_HOSTS. */
  readonly allowedHosts: readonly HostPort[];
  readonly cacheDir: string;
  readonly cacheMaxBytes: number;
  /** Interpreters a repository may choose from (`environment.python`), besides the sandbox's own. */
  readonly pythons: readonly string[];
}

const urlList = (value: string | undefined): string[] => (value ?? '').split(/[\s,]+/).filter(Boolean);

const IndexUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL such as https://pypi.org/simple' });

export const EnvironmentEnvSchema = z.object({
  /** The package index pip installs from (PEP 503 simple API); credentials may be given as user:password@. */
  CODE4PY_PIP_INDEX_URL: IndexUrl.default(DEFAULT_INDEX_URL),
  /** More indexes, separated by spaces or commas. */
  CODE4PY_PIP_EXTRA_INDEX_URL: z.string().optional().transform(urlList).pipe(z.array(IndexUrl)),
  /** More hosts the install run may reach, as host or host:port (443 when no port is given), separated by spaces or commas. */
  CODE4PY_ALLOWED_HOSTS: z
    .string()
    .optional()
    .transform(urlList)
    .pipe(z.array(z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?$/, 'must be host or host:port entries such as files.example.com:443'))),
  /** The environment cache's folder. */
  CODE4PY_ENV_CACHE_DIR: z.string().min(1).optional(),
  /** The cache's size in MiB beyond which the least recently used environments are removed. */
  CODE4PY_ENV_CACHE_MAX_MB: z.coerce.number({ error: 'must be a number of MiB' }).int().min(1).default(DEFAULT_CACHE_MAX_MB),
  /** Absolute paths of more Python interpreters, separated by `:` or commas. */
  CODE4PY_PYTHONS: z
    .string()
    .optional()
    .transform((value) => (value ?? '').split(/[:,]/).map((s) => s.trim()).filter(Boolean))
    .pipe(z.array(z.string().refine(isAbsolute, 'must be absolute paths of interpreters such as /usr/bin/python3.12'))),
});

/** The CLI's environment cache: `envs` in its cache folder (CODE4PY_CACHE_DIR, else ${XDG_CACHE_HOME:-~/.cache}/code4py). */
export function cliCacheDir(env: NodeJS.ProcessEnv): string {
  return join(cliCacheRoot(env), 'envs');
}

/** The bot's cache folder: `envs` beside the embedded store's file (default `.code4py/envs`). */
export function botCacheDir(dbPath: string): string {
  return join(dirname(dbPath), 'envs');
}

/** The environment stage's operator variables, read from `env` (process.env), with the CLI's cache folder by default. */
export function readEnvironmentSettings(env: NodeJS.ProcessEnv): EnvironmentSettings {
  const present = (name: string): string | undefined => env[name] || undefined;
  const parsed = EnvironmentEnvSchema.safeParse(Object.fromEntries(Object.keys(EnvironmentEnvSchema.shape).map((name) => [name, present(name)])));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    // The message never repeats the value: an index URL may hold a password.
    throw new UsageError(`${String(issue?.path[0] ?? 'environment')}: ${issue?.message ?? 'invalid'} (see docs/environments.md)`);
  }
  return environmentSettingsOf(parsed.data, cliCacheDir(env));
}

/** The settings from variables already parsed with EnvironmentEnvSchema (the bot's environment is, as a whole). */
export function environmentSettingsOf(data: z.infer<typeof EnvironmentEnvSchema>, defaultCacheDir: string): EnvironmentSettings {
  const index = packageIndex(data.CODE4PY_PIP_INDEX_URL);
  const extraIndexes = data.CODE4PY_PIP_EXTRA_INDEX_URL.map(packageIndex);
  const hosts: HostPort[] = [index, ...extraIndexes].map(({ host, port }) => ({ host, port }));
  if (index.host === 'pypi.org' || extraIndexes.some((i) => i.host === 'pypi.org')) hosts.push({ host: PYPI_FILES_HOST, port: 443 });
  for (const entry of data.CODE4PY_ALLOWED_HOSTS) {
    const match = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(entry);
    if (match?.[1]) hosts.push({ host: match[1].replace(/^\[(.*)\]$/, '$1').toLowerCase(), port: Number(match[2] ?? 443) });
  }
  return {
    index,
    extraIndexes,
    allowedHosts: dedupe(hosts),
    cacheDir: resolve(data.CODE4PY_ENV_CACHE_DIR ?? defaultCacheDir),
    cacheMaxBytes: data.CODE4PY_ENV_CACHE_MAX_MB * 1024 * 1024,
    pythons: data.CODE4PY_PYTHONS,
  };
}

/** An index URL split into the part that may be shown and the credentials, which may not. */
function packageIndex(raw: string): PackageIndex {
  const url = new URL(raw);
  const credentials = url.username || url.password ? new IndexCredentials(decodeURIComponent(url.username), decodeURIComponent(url.password)) : null;
  url.username = '';
  url.password = '';
  const port = Number(url.port || (url.protocol === 'https:' ? 443 : 80));
  return { url: url.toString(), host: url.hostname.replace(/^\[(.*)\]$/, '$1').toLowerCase(), port, credentials };
}

function dedupe(hosts: readonly HostPort[]): HostPort[] {
  const seen = new Map(hosts.map((h) => [`${h.host}:${h.port}`, h]));
  return [...seen.values()];
}
