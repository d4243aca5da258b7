import { z } from 'zod';

/**
 * One domain event as it travels between services: who sent it, when, the request it belongs to
 * (`correlationId`), the schema version of `data`, and the data itself. The id is what consumers
 * deduplicate on, so a redelivered or republished event is recognised as the same event.
 */
export interface EventEnvelope<T = unknown, K extends string = string> {
  /** Unique per event (UUID v4 by default); consumers absorb duplicates by it. */
  readonly id: string;
  /** The event type, also its routing key: dot-separated words such as `sample.created`. */
  readonly type: K;
  /** The service that published it. */
  readonly source: string;
  /** When it was created, ISO 8601. */
  readonly timestamp: string;
  /** The id of the request or workflow it belongs to; travels on into the handlers' calls. */
  readonly correlationId: string;
  /** The version of the `data` schema. */
  readonly version: number;
  readonly data: T;
  /** Free-form, JSON-friendly context (tenant, user, trace ids). */
  readonly metadata?: Record<string, unknown>;
}

// A word is what AMQP topic routing sees between dots; `*` and `#` are reserved for patterns.
const TYPE_TEXT = "must be dot-separated words of letters, digits, '_' or '-' (e.g. 'sample.created')";
const TYPE_RE = /^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$/;

/** An event type: dot-separated words, at most 255 bytes (the AMQP routing-key limit). */
export const eventTypeSchema = z
  .string({ error: TYPE_TEXT })
  .max(255, { error: 'must be at most 255 characters (the AMQP routing-key limit)' })
  .regex(TYPE_RE, { error: TYPE_TEXT });

/** The envelope as it is checked on publish and on receipt (`data` is checked by its definition). */
export const envelopeSchema = z.strictObject({
  id: z.string().min(1).max(128),
  type: eventTypeSchema,
  source: z.string().min(1).max(255),
  timestamp: z.iso.datetime({ offset: true }),
  correlationId: z.string().min(1).max(128),
  version: z.number().int().min(1),
  data: z.unknown(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
