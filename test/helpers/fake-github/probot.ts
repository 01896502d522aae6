import { sign } from '@octokit/webhooks-methods';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { pino } from 'pino';
import { Probot, ProbotOctokit } from 'probot';

/** A Probot wired to the fake GitHub: the test app's credentials and signed webhook deliveries. */

export const TEST_WEBHOOK_SECRET = 'test-secret';

let credentials: { appId: number; privateKey: string; publicKey: string } | undefined;

/** A test app: id 1 and a fresh RSA key (PKCS#1 PEM, as GitHub hands them out), made once per test file. */
export function testApp(): { readonly appId: number; readonly privateKey: string; readonly publicKey: string } {
  if (!credentials) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    credentials = { appId: 1, privateKey, publicKey };
  }
  return credentials;
}

/**
 * A Probot that authenticates as testApp(), with Octokit's own retries and throttling off so tests see
 * every request and do not wait a second per write.
 */
export function createTestProbot(): Probot {
  const { appId, privateKey } = testApp();
  return new Probot({
    appId,
    privateKey,
    secret: TEST_WEBHOOK_SECRET,
    // A function, not an object: Probot layers its own throttle options over static defaults, which would
    // switch throttling back on; this runs after Probot's layer and wins.
    Octokit: ProbotOctokit.defaults((options: Record<string, unknown>) => ({
      ...options,
      retry: { enabled: false },
      throttle: { ...(options.throttle as object | undefined), enabled: false },
    })),
    log: pino({ level: 'silent' }),
  });
}

/** Delivers a webhook the way GitHub does: the JSON text signed with the webhook secret, then verified by Probot. */
export async function deliverWebhook(probot: Probot, event: { name: string; payload: object; id?: string }): Promise<void> {
  const payload = JSON.stringify(event.payload);
  await probot.webhooks.verifyAndReceive({ id: event.id ?? randomBytes(8).toString('hex'), name: event.name, payload, signature: await sign(TEST_WEBHOOK_SECRET, payload) });
}
