import { describe, expect, it } from 'vitest';
import { LABEL_COLOR, LABEL_DESCRIPTION } from '../../src/worker/ensure-label.js';
import { LABEL_REPOSITORIES_PER_EVENT } from '../../src/webhooks/installation.js';
import { useRig, OWNER, REPO } from '../e2e/setup.js';
import { secondaryRateLimit } from '../helpers/fake-github.js';
import { addLabel, labelsOf } from '../helpers/fake-github-labels.js';
import { installationCreatedPayload, repositoriesAddedPayload } from '../helpers/webhook-payloads.js';

/**
 * The label exists: when the app is installed on repositories, the worker creates the label that starts a
 * task where it is missing, and leaves a label the maintainers made alone. The webhook handler only queues.
 * GitHub is the OpenAPI-checked fake behind nock; the store and the worker are the bot's own.
 */

const rig = useRig();

const labelWrites = () => rig.github.requests.filter((r) => r.operationId === 'issues/create-label');

describe('installation.created', () => {
  it('creates the code4py label, with its colour and description, where it is missing, and leaves an existing one alone', async () => {
    rig.github.addRepo({ owner: OWNER, name: 'web' });
    addLabel(rig.github, `${OWNER}/web`, { name: 'Code4Py', color: 'ff0000', description: 'ours' });

    await rig.deliver('installation', installationCreatedPayload({ repositories: [REPO, `${OWNER}/web`] }), 'install-1');
    // The handler only queued: not one request has reached GitHub yet.
    expect(rig.github.requests).toEqual([]);
    await rig.settle();

    expect(labelsOf(rig.github, REPO)).toEqual([expect.objectContaining({ name: 'code4py', color: LABEL_COLOR, description: LABEL_DESCRIPTION })]);
    // GitHub's label names compare case-insensitively: `Code4Py` is the label, kept as the maintainers made it.
    expect(labelsOf(rig.github, `${OWNER}/web`)).toEqual([expect.objectContaining({ name: 'Code4Py', color: 'ff0000', description: 'ours' })]);
    expect(labelWrites().map((r) => r.path)).toEqual([`/repos/${REPO}/labels`]);
    expect(rig.queue.counts()).toEqual({ done: 2 });
  });

  it('makes nothing twice when GitHub delivers the event again', async () => {
    const payload = installationCreatedPayload({ repositories: [REPO] });
    await rig.deliver('installation', payload, 'install-again');
    await rig.settle();
    await rig.deliver('installation', payload, 'install-again');
    await rig.settle();
    expect(labelWrites()).toHaveLength(1);
    expect(rig.queue.counts()).toEqual({ done: 1 });
  });

  it(`gives at most ${LABEL_REPOSITORIES_PER_EVENT} repositories of one event a label, and leaves the rest alone`, async () => {
    const names = Array.from({ length: LABEL_REPOSITORIES_PER_EVENT + 1 }, (_, i) => `repo-${String(i).padStart(3, '0')}`);
    for (const name of names) rig.github.addRepo({ owner: OWNER, name });

    await rig.deliver('installation', installationCreatedPayload({ repositories: names.map((n) => `${OWNER}/${n}`) }));
    await rig.settle();

    const labelled = names.filter((n) => labelsOf(rig.github, `${OWNER}/${n}`).length > 0);
    expect(labelled).toEqual(names.slice(0, LABEL_REPOSITORIES_PER_EVENT));
    expect(labelsOf(rig.github, `${OWNER}/${names.at(-1)}`)).toEqual([]);
    expect(labelWrites()).toHaveLength(LABEL_REPOSITORIES_PER_EVENT);
  });
});

describe('creating the label', () => {
  it('takes a label made between its read and its create as there', async () => {
    rig.github.failNext({ method: 'POST', pathPattern: '/repos/{owner}/{repo}/labels', status: 422, body: { message: 'Validation Failed', errors: [{ resource: 'Label', code: 'already_exists', field: 'name' }], documentation_url: 'https://docs.github.com/rest' } });
    await rig.deliver('installation', installationCreatedPayload({ repositories: [REPO] }));
    await rig.settle();
    expect(labelWrites().map((r) => r.status)).toEqual([422]);
    expect(rig.queue.counts()).toEqual({ done: 1 });
  });

  it("waits out GitHub's secondary rate limit and creates it then", async () => {
    rig.github.failNext(secondaryRateLimit({ method: 'POST', pathPattern: '/repos/{owner}/{repo}/labels', retryAfterSeconds: 0 }));
    await rig.deliver('installation', installationCreatedPayload({ repositories: [REPO] }));
    await rig.settle();
    expect(labelWrites().map((r) => r.status)).toEqual([403, 201]);
    expect(labelsOf(rig.github, REPO).map((l) => l.name)).toEqual(['code4py']);
  });
});

describe('installation_repositories.added', () => {
  it("creates the label the repository's .github/code4py.yml names", async () => {
    rig.github.addRepo({ owner: OWNER, name: 'api', files: { 'README.md': '# api\n', '.github/code4py.yml': 'label: ai-please\n' } });

    await rig.deliver('installation_repositories', repositoriesAddedPayload({ repositories: [`${OWNER}/api`] }));
    await rig.settle();

    expect(labelsOf(rig.github, `${OWNER}/api`)).toEqual([expect.objectContaining({ name: 'ai-please', color: LABEL_COLOR })]);
    // Nothing is said anywhere: the repository has no issue to say it on.
    expect([...rig.github.repo(`${OWNER}/api`).comments.values()]).toEqual([]);
  });
});
