import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';

/**
 * GitHub's own OpenAPI description (`@octokit/openapi`, api.github.com), used to check every request the
 * tests make and every answer the fake gives, so that fixtures cannot drift from the real API. The
 * non-dereferenced file (13 MB) is parsed once per test file; schemas are compiled on first use.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };
type Schema = JsonObject;

/** A request or response that GitHub's description does not allow. The message names the operation and the JSON pointer. */
export class OpenApiViolation extends Error {
  override readonly name = 'OpenApiViolation';
  constructor(
    readonly operation: string,
    readonly problems: readonly string[],
  ) {
    super(`${operation}: ${problems.join('; ')}`);
  }
}

/** One documented operation matched by a concrete request. */
export interface MatchedOperation {
  readonly method: string;
  /** The path template, e.g. `/repos/{owner}/{repo}/git/refs/{ref}`. */
  readonly template: string;
  readonly operationId: string;
  /** Path parameters, percent-decoded. */
  readonly params: Readonly<Record<string, string>>;
  /** `GET /repos/{owner}/{repo} (repos/get)`: how messages name it. */
  readonly label: string;
}

/** Component schemas are added to ajv one by one, under this prefix, as the schemas being compiled reach them. */
const SCHEMAS = 'https://api.github.com/openapi/schemas/';
// Parameters whose values GitHub accepts with unencoded slashes (`heads/code4py/issue-1`, `.github/code4py.yml`).
const SLASHED = new Set(['ref', 'path', 'branch', 'basehead']);
const METHODS = ['get', 'put', 'post', 'patch', 'delete', 'head', 'options'];

interface Route {
  readonly template: string;
  readonly names: string[];
  readonly exact: RegExp;
  readonly slashed: RegExp | null;
  /** Literal characters: the more, the more specific (`/git/ref/{ref}` before `/{owner}/{repo}`-like catch-alls). */
  readonly weight: number;
  readonly operations: JsonObject;
}

interface Spec {
  readonly doc: JsonObject;
  readonly routes: Route[];
  readonly ajv: Ajv;
  readonly validators: Map<string, ValidateFunction>;
  /** Component schemas already converted and added to ajv. */
  readonly added: Set<string>;
}

let spec: Spec | undefined;

function load(): Spec {
  if (spec) return spec;
  const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
  const doc = JSON.parse(readFileSync(file, 'utf8')) as JsonObject;
  const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;
  const ajv = new Ajv({ strict: false, allErrors: true, inlineRefs: false, validateSchema: false, unicodeRegExp: false, logger: false });
  addFormats(ajv);
  const routes = Object.entries(doc.paths as JsonObject).map(([template, operations]) => route(template, operations as JsonObject));
  spec = { doc, routes, ajv, validators: new Map(), added: new Set() };
  return spec;
}

/**
 * Makes a schema ready for ajv: converts it and, transitively, every component it refers to (added to ajv
 * under SCHEMAS). Done lazily because converting all of GitHub's schemas up front costs more than the tests.
 */
function prepare(schema: Json): void {
  const { ajv, added, doc } = load();
  const pending: string[] = [];
  const formats = new Set<string>();
  toJsonSchema(schema, formats, pending);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (added.has(name)) continue;
    added.add(name);
    const component = ((doc.components as JsonObject).schemas as JsonObject)[name];
    if (component === undefined) throw new Error(`GitHub's OpenAPI description has no schema ${name}`);
    toJsonSchema(component, formats, pending);
    ajv.addSchema(component as Schema, SCHEMAS + name);
  }
  // GitHub's own formats (`repo.nwo`, `timestamp`, …) carry no rule a validator could check.
  for (const format of formats) if (!ajv.formats[format]) ajv.addFormat(format, true);
}

/**
 * OpenAPI 3.0 is not quite JSON Schema: `nullable` becomes a `null` type (or enum member, or an `anyOf`
 * branch), and `#/components/schemas/x` refs point at the component added to ajv. Idempotent.
 */
function toJsonSchema(node: Json, formats: Set<string>, refs: string[]): void {
  if (Array.isArray(node)) return node.forEach((item) => toJsonSchema(item, formats, refs));
  if (node === null || typeof node !== 'object') return;
  for (const value of Object.values(node)) toJsonSchema(value, formats, refs);
  if (typeof node.$ref === 'string') {
    node.$ref = node.$ref.replace('#/components/schemas/', SCHEMAS);
    if (node.$ref.startsWith(SCHEMAS)) refs.push(node.$ref.slice(SCHEMAS.length));
  }
  if (typeof node.format === 'string') formats.add(node.format);
  if (typeof node.nullable !== 'boolean') return;
  const nullable = node.nullable;
  delete node.nullable;
  if (!nullable) return;
  if (Array.isArray(node.enum) && !node.enum.includes(null)) node.enum.push(null);
  if (typeof node.type === 'string') node.type = [node.type, 'null'];
  else if (!Array.isArray(node.type)) {
    const rest = { ...node };
    for (const key of Object.keys(node)) delete node[key];
    node.anyOf = [{ type: 'null' }, rest];
  }
}

function route(template: string, operations: JsonObject): Route {
  const names: string[] = [];
  const source = (slashed: boolean) =>
    template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\\?\{(\w+)\\?\}/g, (_, name: string) => {
      if (!slashed) names.push(name);
      return slashed && SLASHED.has(name) ? '(.+)' : '([^/]+)';
    });
  const exact = new RegExp(`^${source(false)}$`);
  const hasSlashed = names.some((n) => SLASHED.has(n));
  return { template, names, exact, slashed: hasSlashed ? new RegExp(`^${source(true)}$`) : null, weight: template.replace(/\{\w+\}/g, '').length, operations };
}

/** The documented operation for `method` and a concrete path (query allowed), or null with the reason. */
export function findOperation(method: string, url: string): MatchedOperation | { readonly error: string } {
  const { routes } = load();
  const path = url.split('?')[0] ?? '';
  const lower = method.toLowerCase();
  for (const pass of ['exact', 'slashed'] as const) {
    const candidates = routes
      .map((r) => ({ r, m: (pass === 'exact' ? r.exact : r.slashed)?.exec(path) }))
      .filter((c): c is { r: Route; m: RegExpExecArray } => !!c.m)
      .sort((a, b) => b.r.weight - a.r.weight);
    if (candidates.length === 0) continue;
    const hit = candidates.find((c) => c.r.operations[lower]);
    if (!hit) {
      const allowed = METHODS.filter((m) => candidates[0]!.r.operations[m]).map((m) => m.toUpperCase());
      return { error: `${method.toUpperCase()} ${path} is not documented (${candidates[0]!.r.template} allows ${allowed.join(', ')})` };
    }
    const op = hit.r.operations[lower] as JsonObject;
    const params = Object.fromEntries(hit.r.names.map((name, i) => [name, decodeURIComponent(hit.m[i + 1]!)]));
    const operationId = String(op.operationId);
    return { method: method.toUpperCase(), template: hit.r.template, operationId, params, label: `${method.toUpperCase()} ${hit.r.template} (${operationId})` };
  }
  return { error: `${method.toUpperCase()} ${path} is not a documented GitHub REST API path` };
}

/**
 * Checks a request: the path and method are documented, every query parameter is a documented one with a
 * valid value, required ones are present, and a JSON body validates against the request body schema.
 */
export function checkRequest(request: { method: string; url: string; body?: unknown }): MatchedOperation {
  const found = findOperation(request.method, request.url);
  if ('error' in found) throw new OpenApiViolation(`${request.method.toUpperCase()} ${request.url.split('?')[0]}`, [found.error]);
  const op = operation(found);
  const problems: string[] = [];
  const parameters = ((op.parameters ?? []) as Json[]).map((p) => resolve(p) as JsonObject);
  const query = new URL(request.url, 'https://api.github.com').searchParams;
  for (const p of parameters) {
    const name = String(p.name);
    const value = p.in === 'query' ? query.get(name) : p.in === 'path' ? found.params[name] : undefined;
    if (value === undefined || value === null) {
      if (p.required === true && p.in === 'query') problems.push(`query parameter ${name} is required`);
      continue;
    }
    const key = `${found.label} ${p.in} ${name}`;
    problems.push(...validate(key, p.schema as Schema, coerce(value, p.schema as Schema), `${p.in} parameter ${name}`));
  }
  const documented = new Set(parameters.filter((p) => p.in === 'query').map((p) => String(p.name)));
  for (const name of query.keys()) if (!documented.has(name)) problems.push(`query parameter ${name} is not documented`);
  const body = resolve(op.requestBody ?? null) as JsonObject | null;
  const bodySchema = ((body?.content as JsonObject | undefined)?.['application/json'] as JsonObject | undefined)?.schema as Schema | undefined;
  if (request.body !== undefined && request.body !== '' && !body) problems.push('takes no request body');
  else if (body?.required === true && (request.body === undefined || request.body === '')) problems.push('request body is required');
  else if (bodySchema && request.body !== undefined && request.body !== '') problems.push(...validate(`${found.label} request`, bodySchema, request.body, 'request body'));
  if (problems.length > 0) throw new OpenApiViolation(found.label, problems);
  return found;
}

/**
 * Checks a response: the status is documented for the operation (an error status GitHub may send to any
 * request, such as 401, 403 or 422, must at least have GitHub's error shape), and a JSON body validates
 * against that status's schema.
 */
export function checkResponse(op: MatchedOperation, response: { status: number; body: unknown; contentType?: string }): void {
  const responses = operation(op).responses as JsonObject;
  const status = String(response.status);
  const documented = resolve(responses[status] ?? responses[`${status[0]}XX`] ?? responses.default ?? null) as JsonObject | null;
  const isJson = response.contentType === undefined || /json/.test(response.contentType);
  if (!documented) {
    if (response.status < 400) throw new OpenApiViolation(op.label, [`status ${status} is not documented (documented: ${Object.keys(responses).join(', ')})`]);
    const problems = isJson ? validate('basic-error', { $ref: '#/components/schemas/basic-error' }, response.body, `${status} body`) : [];
    if (problems.length > 0) throw new OpenApiViolation(op.label, problems);
    return;
  }
  const content = documented.content as JsonObject | undefined;
  if (!content) {
    if (response.body !== undefined && response.body !== '' && response.body !== null) throw new OpenApiViolation(op.label, [`status ${status} is documented without a body`]);
    return;
  }
  // Other media types (a raw file, a diff) are not described by a schema.
  const media = (content['application/json'] ?? Object.entries(content).find(([type]) => /json/.test(type))?.[1]) as JsonObject | undefined;
  if (!isJson || !media?.schema) return;
  const problems = validate(`${op.label} ${status}`, media.schema as Schema, response.body, `${status} response body`);
  if (problems.length > 0) throw new OpenApiViolation(op.label, problems);
}

function operation(op: MatchedOperation): JsonObject {
  return ((load().doc.paths as JsonObject)[op.template] as JsonObject)[op.method.toLowerCase()] as JsonObject;
}

/** Follows a `#/components/{parameters,responses,…}/name` reference. */
function resolve(node: Json): Json {
  let current = node;
  for (let hops = 0; current && typeof current === 'object' && !Array.isArray(current) && typeof current.$ref === 'string' && hops < 10; hops++) {
    const parts = current.$ref.replace(SCHEMAS, 'components/schemas/').replace(/^#\//, '').split('/');
    current = parts.reduce<Json>((at, part) => (at as JsonObject)[part.replace(/~1/g, '/').replace(/~0/g, '~')] ?? null, load().doc);
  }
  return current;
}

function validate(key: string, schema: Schema, value: unknown, where: string): string[] {
  const { ajv, validators } = load();
  let check = validators.get(key);
  if (!check) {
    prepare(schema);
    check = ajv.compile(schema);
    validators.set(key, check);
  }
  if (check(value)) return [];
  return describe(check.errors ?? [], where);
}

function describe(errors: readonly ErrorObject[], where: string): string[] {
  // allErrors reports every failing branch of a oneOf; the deepest pointers say most.
  const sorted = [...errors].sort((a, b) => b.instancePath.split('/').length - a.instancePath.split('/').length);
  const lines = sorted.map((e) => `${where}${e.instancePath ? ` at ${e.instancePath}` : ''} ${e.message ?? 'is invalid'}${detail(e)}`);
  return [...new Set(lines)].slice(0, 5);
}

function detail(e: ErrorObject): string {
  const p = e.params as Record<string, unknown>;
  if (Array.isArray(p.allowedValues)) return ` (${p.allowedValues.map((v) => JSON.stringify(v)).join(', ')})`;
  if (typeof p.additionalProperty === 'string') return ` (${p.additionalProperty})`;
  return '';
}

/** Query and path parameters arrive as text; the schema describes the value they stand for. */
function coerce(value: string, schema: Schema | undefined): unknown {
  const type = Array.isArray(schema?.type) ? schema.type[0] : schema?.type;
  if ((type === 'integer' || type === 'number') && value.trim() !== '' && !Number.isNaN(Number(value))) return Number(value);
  if (type === 'boolean' && (value === 'true' || value === 'false')) return value === 'true';
  return value;
}

/**
 * A minimal instance of a component schema (`issue`, `full-repository`, …): every required field, filled
 * from the description's own examples, null where allowed. The fake overrides the fields it keeps state
 * for; the rest has GitHub's shape without the fake spelling out seventy URLs.
 */
export function exampleOf(schemaName: string): Record<string, unknown> {
  const cached = examples.get(schemaName);
  if (cached) return structuredClone(cached);
  const root = { $ref: `#/components/schemas/${schemaName}` };
  prepare(root);
  const value = sample(root, 0, false) as Record<string, unknown>;
  examples.set(schemaName, value);
  return structuredClone(value);
}

const examples = new Map<string, Record<string, unknown>>();

/** `nullable` says whether null may stand for the value: not for the component asked for (`nullable-integration`). */
function sample(node: Schema, depth: number, nullable = true): unknown {
  const schema = resolve(node) as Schema;
  if (depth > 12) return null;
  if (Array.isArray(schema.allOf)) return Object.assign({}, ...schema.allOf.map((s) => sample(s as Schema, depth + 1)));
  const options = (schema.anyOf ?? schema.oneOf) as Schema[] | undefined;
  if (options) {
    if (nullable && options.some((o) => o.type === 'null')) return null;
    return sample(options.find((o) => o.type !== 'null') ?? options[0]!, depth + 1, nullable);
  }
  const types = (Array.isArray(schema.type) ? schema.type : [schema.type]).filter((t) => nullable || t !== 'null');
  if (types.includes('null')) return null;
  if (Array.isArray(schema.enum)) return schema.enum.find((v) => v !== null) ?? null;
  const example = schema.example;
  switch (types[0]) {
    case 'object': {
      const properties = (schema.properties ?? {}) as Record<string, Schema>;
      const required = (schema.required ?? []) as string[];
      return Object.fromEntries(required.map((name) => [name, properties[name] ? sample(properties[name], depth + 1) : null]));
    }
    case 'array':
      return [];
    case 'integer':
    case 'number':
      return typeof example === 'number' ? example : typeof schema.minimum === 'number' ? schema.minimum : 1;
    case 'boolean':
      return typeof example === 'boolean' ? example : false;
    case 'string':
      if (typeof example === 'string') return example;
      if (schema.format === 'date-time') return '2011-01-26T19:01:12Z';
      if (schema.format === 'uri') return 'https://api.github.com/';
      if (schema.format === 'email') return 'octocat@github.com';
      return '';
    default:
      return example ?? null;
  }
}
