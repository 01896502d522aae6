import { exampleOf } from '../openapi.js';
import { API, WEB, type FakeAnnotation, type FakeCheckRun, type FakeRepo } from './model.js';
import { invalid, notFound, type Routes } from './replies.js';
import { asUser, nodeId, now, type FakeStore } from './store.js';

/**
 * Check runs. The 50-annotation and 65 535-character limits are in GitHub's description, so the OpenAPI
 * check in the request core enforces them.
 */
export function checkRoutes(store: FakeStore): Routes {
  return {
    'checks/create': ({ op, body }) => {
      const repo = store.repoOf(op);
      const headSha = String(body.head_sha);
      if (!store.commits.has(headSha)) throw invalid(`No commit found for SHA: ${headSha}`);
      const run: FakeCheckRun = {
        id: store.id(),
        name: String(body.name),
        headSha,
        externalId: (body.external_id as string | undefined) ?? null,
        status: 'queued',
        conclusion: null,
        output: { title: null, summary: null, text: null },
        annotationBatches: [],
        updates: [],
        startedAt: (body.started_at as string | undefined) ?? now(),
        completedAt: null,
      };
      updateCheckRun(run, body);
      repo.checkRuns.set(run.id, run);
      return { status: 201, body: checkRunJson(store, repo, run) };
    },
    'checks/update': ({ op, body }) => {
      const repo = store.repoOf(op);
      const run = repo.checkRuns.get(Number(op.params.check_run_id));
      if (!run) throw notFound();
      updateCheckRun(run, body);
      return { status: 200, body: checkRunJson(store, repo, run) };
    },
  };
}

function updateCheckRun(run: FakeCheckRun, body: Record<string, unknown>): void {
  const output = body.output as { title?: string; summary?: string; text?: string; annotations?: FakeAnnotation[] } | undefined;
  const conclusion = body.conclusion as string | undefined;
  if (body.status === 'completed' && !conclusion && !run.conclusion) throw invalid('Invalid request.\n\nconclusion is required when status is completed.');
  run.updates.push(structuredClone(body));
  if (typeof body.name === 'string') run.name = body.name;
  if (typeof body.external_id === 'string') run.externalId = body.external_id;
  if (typeof body.status === 'string') run.status = body.status;
  if (conclusion) {
    run.conclusion = conclusion;
    run.status = 'completed';
    run.completedAt = (body.completed_at as string | undefined) ?? now();
  }
  if (output) {
    run.output = { title: output.title ?? run.output.title, summary: output.summary ?? run.output.summary, text: output.text ?? run.output.text };
    if (output.annotations?.length) run.annotationBatches.push(structuredClone(output.annotations));
  }
}

function checkRunJson(store: FakeStore, repo: FakeRepo, run: FakeCheckRun): Record<string, unknown> {
  const base = `${API}/repos/${repo.owner}/${repo.name}`;
  const annotations = run.annotationBatches.reduce((n, batch) => n + batch.length, 0);
  return {
    ...exampleOf('check-run'),
    id: run.id,
    node_id: nodeId('CheckRun', run.id),
    name: run.name,
    head_sha: run.headSha,
    external_id: run.externalId,
    status: run.status,
    conclusion: run.conclusion,
    started_at: run.startedAt,
    completed_at: run.completedAt,
    url: `${base}/check-runs/${run.id}`,
    html_url: `${WEB}/${repo.owner}/${repo.name}/runs/${run.id}`,
    details_url: `${WEB}/${repo.owner}/${repo.name}/runs/${run.id}`,
    output: { ...run.output, annotations_count: annotations, annotations_url: `${base}/check-runs/${run.id}/annotations` },
    check_suite: { id: run.id + 1 },
    app: { ...exampleOf('integration'), id: store.app.appId, slug: store.bot.login.replace(/\[bot\]$/, ''), name: 'Code4Py', owner: store.userJson(asUser(repo.owner)) },
    pull_requests: [],
  };
}
