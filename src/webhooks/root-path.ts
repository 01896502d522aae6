import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Probot } from 'probot';

/**
 * Probot's setup page registers the app with the server's own URL (`https://host/`) as its webhook URL
 * when WEBHOOK_PROXY_URL is unset, while Probot serves webhooks at WEBHOOK_PATH (`/api/github/webhooks`):
 * an app registered that way would never be heard. So deliveries posted to `/` are taken too, by the same
 * middleware (signature check included) as those posted to the webhook path.
 */
export async function rootWebhooks(app: Probot): Promise<(req: IncomingMessage, res: ServerResponse) => Promise<boolean>> {
  const middleware = await app.getNodeMiddleware({ path: '/' });
  return async (req, res) => req.method === 'POST' && (await middleware(req, res)) === true;
}
