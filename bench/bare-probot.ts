/**
 * The baseline of `npm run bench:intake`: a bare Probot app with an empty handler, started with Probot's
 * own `run` from the same environment variables as the bot (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET, PORT,
 * HOST, LOG_LEVEL), on the same Probot. What it costs to acknowledge a delivery is what Probot itself
 * costs: reading the body, verifying the signature, parsing the JSON, emitting the event.
 */
import { run } from 'probot';

await run((app) => {
  app.onAny(async () => undefined);
});
