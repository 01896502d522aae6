import examples from '@octokit/webhooks-examples';
import { Probot, ProbotOctokit } from 'probot';
import { pino } from 'pino';
import { Writable } from 'node:stream';
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { createApp } from '../../src/app.js';
import { installationHandlers } from '../../src/webhooks/installation.js';
import {
  CheckRunPayloadSchema,
  CheckSuitePayloadSchema,
  IssueCommentPayloadSchema,
  IssuesPayloadSchema,
  ReviewCommentPayloadSchema,
  ReviewPayloadSchema,
  type TaskRequest,
} from '../../src/webhooks/requests.js';

const definitions = examples as unknown as Array<{ name: string; examples: Array<Record<string, unknown>> }>;

/** GitHub's own examples of `event.action`, as an app receives them (with its installation). */
function examplesOf(event: string, action: string): Array<Record<string, any>> {
  const found = definitions.find((d) => d.name === event)?.examples.filter((e) => e.action === action) ?? [];
  if (found.length === 0) throw new Error(`no ${event}.${action} example`);
  return found.map((e) => ({ ...structuredClone(e), installation: { id: 4242 } }));
}

/** Every event the bot handles, with the schema of the fields it uses. */
const HANDLED: ReadonlyArray<{ event: string; action: string; schema: z.ZodType }> = [
  { event: 'issues', action: 'labeled', schema: IssuesPayloadSchema },
  { event: 'issues', action: 'opened', schema: IssuesPayloadSchema },
  { event: 'issue_comment', action: 'created', schema: IssueCommentPayloadSchema },
  { event: 'pull_request_review', action: 'submitted', schema: ReviewPayloadSchema },
  { event: 'pull_request_review_comment', action: 'created', schema: ReviewCommentPayloadSchema },
  { event: 'check_run', action: 'rerequested', schema: CheckRunPayloadSchema },
  { event: 'check_suite', action: 'rerequested', schema: CheckSuitePayloadSchema },
];

const privateKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();

/** A Probot with both handler sets, whose log lines are kept as JSON objects. */
function probotWithLog(): { probot: Probot; accepted: TaskRequest[]; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const accepted: TaskRequest[] = [];
  const intake = { accept: (request: TaskRequest) => (accepted.push(request), { queued: true }) };
  const probot = new Probot({ appId: 1, privateKey, secret: 'test-secret', Octokit: ProbotOctokit.defaults({ retry: { enabled: false }, throttle: { enabled: false } }), log: pino({ level: 'warn' }, stream) });
  probot.load(createApp(intake));
  probot.load(installationHandlers(intake));
  return { probot, accepted, lines };
}

describe('webhook payloads', () => {
  it("parses every one of GitHub's examples of the events it handles, so a real delivery is never logged as malformed", () => {
    for (const { event, action, schema } of HANDLED) {
      for (const payload of examplesOf(event, action)) {
        const parsed = schema.safeParse(payload);
        expect(parsed.success ? null : parsed.error.issues, `${event}.${action}`).toBeNull();
      }
    }
  });

  it('ignores a payload without the fields it uses, for every event, and logs the delivery and the event but none of the payload', async () => {
    const { probot, accepted, lines } = probotWithLog();
    const events = [...HANDLED, { event: 'installation', action: 'created' }, { event: 'installation_repositories', action: 'added' }];
    for (const [i, { event, action }] of events.entries()) {
      const payload = examplesOf(event, action)[0]!;
      delete payload.installation;
      payload.sender = { ...payload.sender, login: 'payload-text-that-must-not-be-logged' };
      await probot.receive({ id: `bad-${i}`, name: event, payload } as never);
    }
    expect(accepted).toEqual([]);
    const warnings = lines.filter((l) => l.msg === `${String(l.event)} payload ignored: it does not have the fields the bot uses`);
    expect(warnings.map((w) => [w.deliveryId, w.event])).toEqual(events.map(({ event }, i) => [`bad-${i}`, event]));
    expect(warnings.every((w) => typeof w.issues === 'number' && w.issues > 0)).toBe(true);
    expect(JSON.stringify(lines)).not.toContain('payload-text-that-must-not-be-logged');
  });
});
