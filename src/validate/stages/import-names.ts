import { isPythonFile, type SourceFile } from '../source.js';

/**
 * Import names whose distribution (what `pip install` takes) is named differently. Keys are dotted
 * import prefixes, longest match wins; the first distribution is the one to suggest, the others are
 * alternatives that provide the same import. A name ending in `*` matches any distribution with that prefix.
 * Everything not listed is assumed to be distributed under its import name.
 */
export const IMPORT_TO_DISTRIBUTIONS: Readonly<Record<string, readonly string[]>> = {
  attr: ['attrs'],
  bs4: ['beautifulsoup4'],
  cairo: ['pycairo'],
  Crypto: ['pycryptodome', 'pycrypto'],
  Cryptodome: ['pycryptodomex'],
  cv2: ['opencv-python', 'opencv-python-headless', 'opencv-contrib-python', 'opencv-contrib-python-headless'],
  dateutil: ['python-dateutil'],
  docx: ['python-docx'],
  dotenv: ['python-dotenv'],
  fitz: ['PyMuPDF'],
  git: ['GitPython'],
  github: ['PyGithub'],
  gi: ['PyGObject'],
  google: ['google-*'],
  'google.protobuf': ['protobuf'],
  'google.cloud': ['google-cloud-*'],
  'google.auth': ['google-auth'],
  'google.oauth2': ['google-auth'],
  'google.genai': ['google-genai'],
  'google.generativeai': ['google-generativeai'],
  googleapiclient: ['google-api-python-client'],
  grpc: ['grpcio'],
  jose: ['python-jose'],
  jwt: ['PyJWT'],
  kafka: ['kafka-python'],
  ldap: ['python-ldap'],
  magic: ['python-magic'],
  MySQLdb: ['mysqlclient'],
  nacl: ['PyNaCl'],
  OpenSSL: ['pyOpenSSL'],
  PIL: ['Pillow'],
  pptx: ['python-pptx'],
  psycopg2: ['psycopg2-binary', 'psycopg2'],
  pkg_resources: ['setuptools'],
  serial: ['pyserial'],
  sklearn: ['scikit-learn'],
  skimage: ['scikit-image'],
  slugify: ['python-slugify'],
  socks: ['PySocks'],
  telegram: ['python-telegram-bot'],
  usb: ['pyusb'],
  win32api: ['pywin32'],
  win32con: ['pywin32'],
  yaml: ['PyYAML'],
  zmq: ['pyzmq'],
};

/** PEP 503: distribution names compare lower-cased, with runs of `-`, `_` and `.` as one `-`. */
export function normalizeName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/** The distributions that could provide a (dotted) import; the first is the one to suggest. */
export function distributionsFor(module: string): readonly string[] {
  const parts = module.split('.');
  for (let n = parts.length; n > 0; n--) {
    const known = IMPORT_TO_DISTRIBUTIONS[parts.slice(0, n).join('.')];
    if (known) return known;
  }
  return [parts[0] ?? module];
}

/** Whether one of the import's distributions is among the declared (normalised) names. */
export function isDeclared(module: string, declared: ReadonlySet<string>): boolean {
  return distributionsFor(module).some((dist) => {
    if (!dist.endsWith('*')) return declared.has(normalizeName(dist));
    const prefix = normalizeName(dist.slice(0, -1));
    return [...declared].some((name) => name.startsWith(prefix));
  });
}

/** The requirement to suggest for an undeclared import (never a prefix pattern). */
export function suggestedDistribution(module: string): string {
  const concrete = distributionsFor(module).find((d) => !d.endsWith('*'));
  // `google.cloud.storage` is distributed as `google-cloud-storage`, as namespace packages usually are.
  return concrete ?? module.replace(/\./g, '-');
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Top-level names the code itself provides: every folder holding Python files and every module's stem.
 * Generous on purpose: pytest puts test folders (rootdir-relative or not) on sys.path, a `src/` layout
 * is importable once installed, and scripts import their siblings, so any of them may be importable.
 */
export function localModules(files: readonly SourceFile[]): Set<string> {
  const names = new Set<string>();
  for (const file of files) {
    if (!isPythonFile(file.path)) continue;
    const parts = file.path.split('/');
    const stem = (parts.pop() ?? '').replace(/\.py$/, '');
    for (const name of [...parts, stem]) if (IDENTIFIER.test(name) && name !== '__init__') names.add(name);
  }
  return names;
}
