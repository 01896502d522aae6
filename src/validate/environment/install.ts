import { cp, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { satisfies } from '@renovatebot/pep440';
import { z } from 'zod';
import { sortFindings, stage, type Finding } from '../report.js';
import { SYSTEM_RUNTIME, type TestRuntime } from '../runtime.js';
import { normalizeName } from '../stages/import-names.js';
import { requirementName } from '../stages/requirements.js';
import { cacheKey, EnvironmentCache } from './cache.js';
import type { DeclaredRequirement, EnvironmentDeclarations } from './declarations.js';
import type { EnvironmentSettings } from './env.js';
import { isFailure, runDriver, SANDBOX_PATHS, type DriverFailure } from './install-run.js';
import { obtainLayer, type Layer } from './layer.js';
import { explainPipOutput, trimPipOutput } from './pip-errors.js';
import { findPipWheel, pipContext, pipFailureText, unpackedPip, type PipContext } from './pip-context.js';
import { preparedEnvironment, DistributionSchema, type EnvironmentInput, type EnvironmentPorts, type NotInstallable, type PreparedEnvironment } from './prepared.js';
import { chooseInterpreter } from './pythons.js';

const EnvDataSchema = z.object({ distributions: z.array(DistributionSchema) });
const EnvAnswerSchema = z.object({ ok: z.literal(true), distributions: z.array(DistributionSchema) });

const caches = new Map<string, EnvironmentCache>();
/** The process's cache for `settings` (one per folder, so concurrent preparations share its in-process locks). */
function environmentCache(settings: EnvironmentSettings): EnvironmentCache {
  let cache = caches.get(settings.cacheDir);
  if (!cache) caches.set(settings.cacheDir, (cache = new EnvironmentCache({ root: settings.cacheDir, maxBytes: settings.cacheMaxBytes })));
  return cache;
}

/**
 * The environment stage when something is to be installed (prepare.ts decided): the declared dependencies in a
 * cached virtual environment, the project itself in the run's own layer, and the runtime the tests run under.
 */
export async function installEnvironment(input: EnvironmentInput, ports: EnvironmentPorts, declared: EnvironmentDeclarations, own: PreparedEnvironment['python']): Promise<PreparedEnvironment> {
  const options = input.config.environment;
  const pipWheel = await findPipWheel();
  if (!pipWheel) {
    const message = "pip's wheel is not installed on this machine (Debian/Ubuntu: apt-get install python3-pip-whl python3-venv); the project's dependencies could not be installed";
    return preparedEnvironment(stage('environment', 'error', message, [{ path: '.', line: 0, rule: 'tools-missing', message, severity: 'error' }]), SYSTEM_RUNTIME, own, null, false, []);
  }
  const interpreter = await chooseInterpreter(ports.sandbox, ports.settings.pythons, options.python, ports.settings.cacheDir);
  const python = { version: interpreter.facts.version, path: interpreter.path, ...(interpreter.note ? { note: interpreter.note } : {}) };
  const unpacked = ports.sandbox.sandbox.backend === 'bwrap' ? await unpackedPip(ports.settings.cacheDir, pipWheel, ports.sandbox.sandbox.python) : null;
  const pip = pipContext({ sandbox: ports.sandbox.sandbox, interpreter, settings: ports.settings, pipWheel, unpackedPip: unpacked, onlyBinary: !options.allow_sdist, timeoutMs: options.timeout_seconds * 1000, ...(ports.signal ? { signal: ports.signal } : {}) });
  const cache = ports.cache ?? environmentCache(ports.settings);
  const findings: Finding[] = [...declared.notes];
  const cleanups: Array<() => Promise<void> | void> = [];
  if (interpreter.note) findings.push({ path: '.github/code4py.yml', line: 0, rule: 'python-version', message: interpreter.note, severity: 'warning' });

  try {
    let layer: Layer | null = null;
    if (declared.project) {
      layer = await obtainLayer(input.root, declared.project, options.extras, pip, cache);
      cleanups.push(() => layer?.release());
      if (layer.fallback) {
        findings.push({
          path: declared.project.path,
          line: 0,
          rule: 'project-not-installed',
          message: `the project could not be installed with its build backend (${layer.fallback.reason}); the working tree is importable with minimal metadata (name ${layer.data.name}, version ${layer.data.version}) instead`,
          severity: 'warning',
          details: trimPipOutput(layer.fallback.details),
        });
      }
    }
    const requirements = withLayerAndTools(declared.requirements, layer, declared.project?.path ?? 'pyproject.toml', interpreter.facts);
    const envKey = cacheKey({ env: 1, python: pip.interpreterKey, indexes: pip.indexUrls, onlyBinary: pip.onlyBinary, requirements: requirements.map((r) => r.spec).sort(), constraints: declared.constraints.map((r) => r.spec).sort(), setup: options.setup });
    const obtained = await cache.obtain('envs', envKey, EnvDataSchema, (content) => buildEnvironment(content, requirements, declared.constraints, options.setup, input.root, pip), pip.signal);
    if (!obtained.entry) {
      const failed = notInstallable(obtained.failure, requirements, input.solutionRequirements ?? [], pip.onlyBinary);
      findings.push(...failureFindings(obtained.failure, failed, requirements));
      ports.log?.warn({ failed: failed.map((f) => f.name), step: obtained.failure.step }, 'environment install failed');
      const summary = obtained.failure.step === 'timeout' ? `installing timed out after ${options.timeout_seconds} s` : `${failed.length ? failed.map((f) => f.name ?? 'install').join(', ') : 'the environment'} could not be installed`;
      const status = obtained.failure.step === 'timeout' || obtained.failure.step === 'driver' ? 'error' : 'failed';
      return preparedEnvironment(stage('environment', status, summary, sortFindings(findings)), SYSTEM_RUNTIME, python, { distributions: [], failed }, false, cleanups);
    }
    const release = cache.lease('envs', envKey);
    cleanups.push(release);
    if (obtained.built) await cache.evict();
    ports.log?.info({ key: envKey, cached: !obtained.built, requirements: requirements.length }, obtained.built ? 'environment built' : 'environment from cache');

    const requiresPython = layer?.data.requiresPython ?? declared.project?.requiresPython ?? null;
    if (requiresPython && !pythonSatisfies(interpreter.facts.version, requiresPython)) {
      findings.push({ path: declared.project?.path ?? 'pyproject.toml', line: 0, rule: 'requires-python', message: `the project requires Python ${requiresPython}, but the tests ran with Python ${interpreter.facts.version}; ask for another with environment.python`, severity: 'warning' });
    }
    const runtime: TestRuntime = {
      python: `${SANDBOX_PATHS.env}/bin/python`,
      mounts: [
        ...interpreter.mounts,
        { host: obtained.entry.content, sandbox: SANDBOX_PATHS.env, writable: false },
        ...(layer ? [{ host: layer.content, sandbox: SANDBOX_PATHS.layer, writable: false }] : []),
      ],
      env: {},
      pluginAutoload: true,
    };
    const parts = [`${requirements.length} ${requirements.length === 1 ? 'requirement' : 'requirements'} installed${obtained.built ? '' : ' (cached)'}`];
    if (layer) parts.push(`project ${layer.data.name} ${layer.data.version} ${layer.fallback ? 'importable (minimal metadata)' : 'editable'}`);
    parts.push(`Python ${interpreter.facts.version}`);
    const sorted = sortFindings(findings);
    const status = sorted.some((f) => f.severity === 'error') ? 'failed' : sorted.some((f) => f.severity === 'warning') ? 'warning' : 'passed';
    return preparedEnvironment(stage('environment', status, parts.join('; '), sorted), runtime, python, { distributions: obtained.entry.data.distributions, failed: [] }, !obtained.built, cleanups);
  } catch (error) {
    await Promise.all(cleanups.map((c) => c()));
    throw error;
  }
}

/** The declared requirements, plus what the build backend declares, plus pytest and coverage when the interpreter lacks them. */
function withLayerAndTools(declared: readonly DeclaredRequirement[], layer: Layer | null, projectPath: string, facts: { pytest: string | null; coverage: string | null }): DeclaredRequirement[] {
  const all = [...declared];
  const seen = new Set(all.map((r) => r.spec));
  const add = (spec: string, path: string): void => {
    const name = requirementName(spec);
    if (!name || seen.has(spec)) return;
    seen.add(spec);
    all.push({ spec, name: normalizeName(name), path, line: 0 });
  };
  for (const spec of layer?.data.requires ?? []) add(spec, projectPath);
  // The tests run under pytest and coverage.py: an interpreter without them gets them installed.
  if (!facts.pytest) add('pytest', '.');
  if (!facts.coverage) add('coverage', '.');
  return all;
}

async function buildEnvironment(
  content: string,
  requirements: readonly DeclaredRequirement[],
  constraints: readonly DeclaredRequirement[],
  setup: readonly string[],
  root: string,
  pip: PipContext,
): Promise<{ ok: true; data: z.infer<typeof EnvDataSchema> } | { ok: false; failure: DriverFailure }> {
  const spec = await mkdtemp(join(tmpdir(), 'code4py-spec-'));
  // Setup commands may read the project's files: they get a copy (what they write there is not kept).
  const work = await mkdtemp(join(tmpdir(), 'code4py-setup-'));
  try {
    await writeFile(join(spec, 'requirements.txt'), requirements.map((r) => r.spec).join('\n') + '\n');
    await writeFile(join(spec, 'constraints.txt'), constraints.map((r) => r.spec).join('\n') + '\n');
    if (setup.length > 0) {
      await cp(root, work, { recursive: true, verbatimSymlinks: true });
    }
    const needsNetwork = requirements.length > 0 || setup.length > 0;
    const { answer } = await runDriver(EnvAnswerSchema, {
      sandbox: pip.sandbox,
      python: pip.interpreter.path,
      spec: {
        mode: 'env',
        target: SANDBOX_PATHS.env,
        layer: SANDBOX_PATHS.layer,
        ...pip.spec,
        requirements: requirements.length ? `${SANDBOX_PATHS.spec}/requirements.txt` : null,
        constraints: constraints.length ? `${SANDBOX_PATHS.spec}/constraints.txt` : null,
        setup,
      },
      workDir: work,
      mounts: [...pip.mounts, { host: content, sandbox: SANDBOX_PATHS.env, writable: true }, { host: spec, sandbox: SANDBOX_PATHS.spec, writable: false }],
      ...(needsNetwork ? { network: pip.settings } : {}),
      timeoutMs: pip.timeoutMs,
      ...(pip.signal ? { signal: pip.signal } : {}),
    });
    if (isFailure(answer)) return { ok: false, failure: answer };
    return { ok: true, data: { distributions: answer.distributions.map((d) => ({ ...d, name: normalizeName(d.name) })) } };
  } finally {
    await rm(spec, { recursive: true, force: true });
    await rm(work, { recursive: true, force: true });
  }
}

function notInstallable(failure: DriverFailure, requirements: readonly DeclaredRequirement[], solution: readonly string[], onlyBinary: boolean): NotInstallable[] {
  const fromSolution = new Set(solution.map((s) => normalizeName(requirementName(s) ?? s)));
  if (failure.step !== 'pip') return [{ name: null, path: failure.step === 'setup' ? '.github/code4py.yml' : '.', line: 0, reason: pipFailureText(failure), fromSolution: false }];
  return explainPipOutput(failure.output, onlyBinary).map((f) => {
    const origin = f.name ? requirements.find((r) => r.name === f.name) : undefined;
    return { name: f.name, path: origin?.path ?? '.', line: origin?.line ?? 0, reason: f.reason, fromSolution: f.name !== null && fromSolution.has(f.name) };
  });
}

function failureFindings(failure: DriverFailure, failed: readonly NotInstallable[], requirements: readonly DeclaredRequirement[]): Finding[] {
  const details = trimPipOutput(failure.output);
  if (failure.step === 'setup') {
    return [{ path: '.github/code4py.yml', line: 0, rule: 'setup-failed', message: `the environment.setup command \`${failure.command ?? ''}\` failed (exit ${failure.exitCode}); fix it or remove it`, severity: 'error', ...(details ? { details } : {}) }];
  }
  return failed.map((f) => {
    const origin = f.name ? requirements.find((r) => r.name === f.name) : undefined;
    const what = origin ? `\`${origin.spec}\`` : f.name ? `\`${f.name}\` (needed by the declared requirements)` : 'the environment';
    const advice = f.fromSolution ? ": declare a package that exists on the index under that name, or do without it" : origin ? `: fix or remove it in ${origin.path}` : '';
    return {
      path: f.path,
      line: f.line,
      rule: f.name ? 'requirement-not-installable' : 'install-failed',
      message: `${what} cannot be installed: ${f.reason}${advice}`,
      severity: 'error' as const,
      ...(details ? { details } : {}),
    };
  });
}

/** Whether `version` satisfies a `requires-python` specifier; true when the specifier cannot be read. */
function pythonSatisfies(version: string, specifier: string): boolean {
  try {
    return satisfies(version, specifier.replace(/\s+/g, ''));
  } catch {
    return true;
  }
}
