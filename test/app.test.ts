import examples from '@octokit/webhooks-examples';
import nock from 'nock';
import { Probot, ProbotOctokit } from 'probot';
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApp, type Intake } from '../src/app.js';
import type { TaskRequest } from '../src/webhooks/requests.js';

/** A real example payload of GitHub's, deep-copied, with the fields a test sets. */
function example(event: 'issues' | 'issue_comment', action: string, pick: (e: Record<string, unknown>) => boolean = () => true): Record<string, any> {
  const group = (examples as unknown as Array<{ name: string; examples: Array<Record<string, unknown>> }>).find((g) => g.name === event)!;
  const found = group.examples.find((e) => e.action === action && pick(e));
  if (!found) throw new Error(`no ${event}.${action} example`);
  return { ...structuredClone(found), installation: { id: 4242, node_id: 'MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9uNDI0Mg==' } };
}

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

let probot: Probot;
let accepted: TaskRequest[];

beforeAll(() => {
  // The handler must not touch the network at all: any request would fail the test.
  nock.disableNetConnect();
});
afterAll(() => {
  nock.enableNetConnect();
});

beforeEach(() => {
  accepted = [];
  const seen = new Set<string>();
  const intake: Intake = {
    accept(request) {
      if (seen.has(request.deliveryId)) return { queued: false, reason: 'redelivery' };
      seen.add(request.deliveryId);
      accepted.push(request);
      return { queued: true };
    },
  };
  probot = new Probot({ appId: 1, privateKey, secret: 'test-secret', Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }), logLevel: 'fatal' });
  probot.load(createApp(intake));
});

describe('webhook intake', () => {
  it('queues a labelled issue with the label, the sender and the installation, and nothing else', async () => {
    const payload = example('issues', 'labeled');
    payload.label.name = 'code4py';
    await probot.receive({ id: 'delivery-1', name: 'issues', payload } as never);
    expect(accepted).toEqual([
      {
        deliveryId: 'delivery-1',
        installationId: 4242,
        owner: payload.repository.owner.login,
        repo: payload.repository.name,
        issueNumber: payload.issue.number,
        sender: payload.sender.login,
        trigger: { kind: 'label', labels: ['code4py'] },
      },
    ]);
  });

  it('queues an issue opened with labels', async () => {
    const payload = example('issues', 'opened');
    payload.issue.labels = [{ id: 1, node_id: 'x', url: 'u', name: 'code4py', color: 'fff', default: false, description: null }];
    await probot.receive({ id: 'delivery-2', name: 'issues', payload } as never);
    expect(accepted.map((r) => r.trigger)).toEqual([{ kind: 'label', labels: ['code4py'] }]);
  });

  it('queues a comment with a slash command, and says whether it is on a pull request', async () => {
    const payload = example('issue_comment', 'created', (e) => !(e.issue as { pull_request?: unknown }).pull_request);
    payload.comment.body = 'Looks good.\n/code4py generate use argparse';
    payload.sender.type = 'User';
    payload.comment.user.type = 'User';
    await probot.receive({ id: 'delivery-3', name: 'issue_comment', payload } as never);
    expect(accepted[0]?.trigger).toEqual({ kind: 'comment', commentId: payload.comment.id, body: 'Looks good.\n/code4py generate use argparse', isPullRequest: false });
  });

  it('passes on a comment without a command only as a possible answer, and ignores every comment by a bot (itself included)', async () => {
    const plain = example('issue_comment', 'created', (e) => !(e.issue as { pull_request?: unknown }).pull_request);
    plain.comment.body = 'Median, please.';
    plain.sender.type = 'User';
    plain.comment.user.type = 'User';
    await probot.receive({ id: 'delivery-4', name: 'issue_comment', payload: plain } as never);
    const bot = example('issue_comment', 'created');
    bot.comment.body = '/code4py help';
    bot.sender.type = 'Bot';
    bot.comment.user.type = 'Bot';
    await probot.receive({ id: 'delivery-5', name: 'issue_comment', payload: bot } as never);
    expect(accepted.map((r) => r.trigger)).toEqual([{ kind: 'answer', commentId: plain.comment.id }]);
  });

  it('queues a redelivered webhook once', async () => {
    const payload = example('issues', 'labeled');
    await probot.receive({ id: 'delivery-6', name: 'issues', payload } as never);
    await probot.receive({ id: 'delivery-6', name: 'issues', payload } as never);
    expect(accepted.length).toBe(1);
  });

  it('ignores a payload without the fields it uses instead of failing the delivery', async () => {
    const payload = example('issues', 'labeled');
    delete payload.installation;
    await probot.receive({ id: 'delivery-7', name: 'issues', payload } as never);
    expect(accepted).toEqual([]);
  });

  it('answers hundreds of deliveries without waiting for any work', async () => {
    const payload = example('issues', 'labeled');
    await Promise.all(Array.from({ length: 300 }, (_, i) => probot.receive({ id: `burst-${i}`, name: 'issues', payload } as never)));
    expect(accepted.length).toBe(300);
  });

  it('records hundreds of deliveries in the durable store, each once, without any network I/O', async () => {
    const { mkdtemp, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const { openQueue } = await import('../src/store/embedded-queue.js');
    const dir = await mkdtemp(join(tmpdir(), 'code4py-intake-'));
    const queue = openQueue(join(dir, 'db.sqlite'));
    try {
      const durable = new Probot({ appId: 1, privateKey, secret: 'test-secret', logLevel: 'fatal' });
      durable.load(createApp(queue));
      const payloads = Array.from({ length: 300 }, (_, i) => {
        const payload = example('issues', 'labeled');
        payload.issue.number = i + 1;
        return payload;
      });
      await Promise.all(payloads.map((payload, i) => durable.receive({ id: `durable-${i}`, name: 'issues', payload } as never)));
      await Promise.all(payloads.map((payload, i) => durable.receive({ id: `durable-${i}`, name: 'issues', payload } as never)));
      expect(queue.counts()).toEqual({ queued: 300 });
    } finally {
      queue.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
