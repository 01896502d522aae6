import { sign } from '@octokit/webhooks-methods';

/** POSTs one webhook to a running server as GitHub does: JSON text, event and delivery headers, signed (to `path`, default Probot's webhook path). */
export async function postWebhook(port: number, secret: string, delivery: { event: string; id: string; payload: object; path?: string }): Promise<number> {
  const body = JSON.stringify(delivery.payload);
  const response = await fetch(`http://127.0.0.1:${port}${delivery.path ?? '/api/github/webhooks'}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-github-event': delivery.event, 'x-github-delivery': delivery.id, 'x-hub-signature-256': await sign(secret, body) },
    body,
  });
  await response.arrayBuffer();
  return response.status;
}
