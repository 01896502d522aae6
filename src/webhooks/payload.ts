import type { z } from 'zod';

/** What a webhook handler reads of Probot's context: the delivery's id, its payload and the logger. */
export interface DeliveryContext {
  readonly id: string;
  readonly payload: unknown;
  readonly log: { warn(meta: Record<string, unknown>, message: string): void };
}

/**
 * The fields of an `event` delivery the bot uses, parsed with `schema`; null for a payload without them,
 * which is logged (the delivery and how many fields were wrong, never the payload's content) and ignored,
 * so that GitHub sees the delivery answered rather than failed and redelivers nothing.
 */
export function payloadOf<S extends z.ZodType>(context: DeliveryContext, event: string, schema: S): z.output<S> | null {
  const parsed = schema.safeParse(context.payload);
  if (parsed.success) return parsed.data;
  context.log.warn({ deliveryId: context.id, event, issues: parsed.error.issues.length }, `${event} payload ignored: it does not have the fields the bot uses`);
  return null;
}
