import { normalizeName } from '../stages/import-names.js';
import { requirementName } from '../stages/requirements.js';

/** A requirement pip could not install, and pip's reason in a sentence. */
export interface PipFailure {
  /** Normalised name; null when pip named no requirement (a network error, a broken index). */
  readonly name: string | null;
  readonly reason: string;
}

const MAX_DETAILS = 4000;

/**
 * What went wrong, read from pip's output: each requirement it names as not installable (not found, no
 * wheel for this platform, no version matching, conflicting versions, a refused host, a failed build),
 * else pip's last error lines.
 */
export function explainPipOutput(output: string, onlyBinary: boolean): PipFailure[] {
  const failures = new Map<string, PipFailure>();
  const add = (spec: string, reason: string): void => {
    const raw = requirementName(spec.replace(/^['"]|['"]$/g, ''));
    const name = raw ? normalizeName(raw) : null;
    const key = name ?? spec;
    if (!failures.has(key)) failures.set(key, { name, reason });
  };

  // pip retries a connection that fails, then reports every requirement as "not found": say what happened.
  const unreachable = /Retrying \(Retry\(total=[^\n]*(?:NewConnectionError|ConnectTimeout|ReadTimeout|Tunnel connection failed: 50\d|Cannot connect to proxy|Max retries exceeded|RemoteDisconnected|SSLError)/.exec(output);
  for (const match of output.matchAll(/Could not find a version that satisfies the requirement (\S+)(?: \(from versions: ([^)]*)\))?/g)) {
    const versions = (match[2] ?? '').trim();
    const reason = unreachable
      ? `the package index could not be reached (${shorten(unreachable[0].replace(/^Retrying \(Retry\([^)]*\)\) after connection broken by /, ''), 160)}): check CODE4PY_PIP_INDEX_URL and that this machine reaches it`
      : versions === '' || versions === 'none'
        ? `it is not on the index${onlyBinary ? ', or it has no wheel for this platform and Python (source distributions are installed only with environment.allow_sdist: true)' : ''}`
        : `no release matches the version asked for (the index has ${shorten(versions)})`;
    add(match[1]!, reason);
  }

  const conflict = /Cannot install (.+?) because these package versions have conflicting dependencies\.([\s\S]*?)(?:To fix this you could|ERROR: ResolutionImpossible|$)/.exec(output);
  if (conflict) {
    const caused = (conflict[2] ?? '').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('The conflict is caused by'));
    const reason = `its versions conflict: ${shorten(caused.join('; '), 400)}`;
    const requested = [...(conflict[2] ?? '').matchAll(/The user requested (\S+)/g)].map((m) => m[1]!);
    for (const spec of requested.length ? requested : (conflict[1] ?? '').split(/,| and /).map((s) => s.trim())) add(spec, reason);
  }

  for (const match of output.matchAll(/(?:Building wheel for|Getting requirements to build wheel|Preparing metadata \(pyproject\.toml\)) (?:for )?(\S+)[^\n]*did not run successfully/g)) {
    add(match[1]!, "building it from its source distribution failed (its build's output is in the details)");
  }

  if (/Tunnel connection failed: 403|403 Forbidden|ProxyError/.test(output) && failures.size === 0) {
    const host = /code4py proxy: (\S+) is not an allowed package host/.exec(output)?.[1];
    failures.set('proxy', { name: null, reason: `a host pip needed is not an allowed package host${host ? ` (${host})` : ''}: the operator allows hosts with CODE4PY_ALLOWED_HOSTS` });
  }

  if (failures.size === 0) failures.set('pip', { name: null, reason: lastErrorLines(output) || 'pip failed without saying why' });
  return [...failures.values()];
}

/** pip's output cut to what a reader needs: its ERROR lines and the end. */
export function trimPipOutput(output: string): string {
  const lines = output.split('\n').filter((line) => !/^\s*(Looking in indexes|Collecting|Downloading|Using cached|Requirement already satisfied|Installing collected|Obtaining|Preparing metadata)/.test(line));
  const text = lines.join('\n').trim();
  return text.length <= MAX_DETAILS ? text : `…${text.slice(-MAX_DETAILS)}`;
}

function lastErrorLines(output: string): string {
  const errors = output.split('\n').filter((line) => line.startsWith('ERROR:'));
  const picked = errors.length ? errors.slice(-2) : output.trim().split('\n').slice(-2);
  return shorten(picked.map((l) => l.replace(/^ERROR:\s*/, '').trim()).join(' '), 400);
}

function shorten(text: string, max = 200): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}
