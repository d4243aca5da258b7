import type { Clock, Logger } from '@clone/service-errors';
import { type PropagationSlot, propagationHeadersOf } from './context-propagation';
import { runWithCorrelationId } from './correlation';
import { type DeadLetterError, describeError } from './dead-letter';
import { type EventDefinition, parseEventData } from './define-event';
import { type EventEnvelope, envelopeSchema } from './event';
import type { EventStats } from './event-stats';
import type { Inbox } from './inbox';
import type { SubscriptionSpec } from './subscription';
import type { Delivery, DeliveryHandler, Outcome } from './transport';

/** A subscriber's handler. */
export type EventHandler<E extends EventEnvelope = EventEnvelope> = (event: E) => unknown;

/** What every subscription's consumer shares with its bus. */
export interface ConsumerContext {
  readonly catalog: ReadonlyMap<string, EventDefinition>;
  readonly inbox: Inbox;
  readonly stats: EventStats;
  readonly clock: Clock;
  readonly logger: Logger;
  /** The bus's context-propagation hook, read per delivery (installed or removed at any time). */
  readonly propagation: PropagationSlot;
}

const ACK: Outcome = { action: 'ack' };

/**
 * The one path a delivery takes, whatever the transport: parse and validate the envelope (an
 * invalid one goes straight to the dead letters, the consumer keeps running), skip what the filter
 * rejects and what the inbox has seen, run the handler in the event's correlation context, and on
 * failure decide retry or dead letter. The event id enters the inbox only after the handler
 * succeeded, so a crash mid-handler leads to a redelivery that runs it again.
 */
export function createDeliveryHandler(
  spec: SubscriptionSpec,
  handler: EventHandler,
  ctx: ConsumerContext,
): DeliveryHandler {
  return async (delivery) => {
    const event = parseDelivery(delivery, ctx.catalog);
    if ('invalid' in event) {
      return {
        action: 'dead',
        reason: 'invalid',
        error: event.invalid,
        attempts: 0,
        firstFailureAt: undefined,
      };
    }
    if (spec.filter !== undefined && !spec.filter(event)) return ACK;
    const key = `${spec.queue}:${event.id}`;
    // Synchronous inboxes and handlers are common; awaiting only real promises saves a turn of
    // the microtask queue for each, per event.
    const seen = ctx.inbox.has(key);
    if (seen === true || (seen !== false && (await seen))) {
      ctx.stats.duplicateEvents++;
      return ACK;
    }
    const started = ctx.clock.now();
    try {
      // Without a hook this is the same single closure as before: the check is all it costs.
      const hook = ctx.propagation.current;
      const result =
        hook === undefined
          ? runWithCorrelationId(event.correlationId, () => handler(event))
          : hook.consume(propagationHeadersOf(event), event, spec.queue, () =>
              runWithCorrelationId(event.correlationId, () => handler(event)),
            );
      if (isThenable(result)) await result;
    } catch (error) {
      ctx.stats.handled(event.type, ctx.clock.now() - started, true);
      return failed(delivery, spec, describeError(error), ctx);
    }
    ctx.stats.handled(event.type, ctx.clock.now() - started, false);
    const added = ctx.inbox.add(key);
    if (isThenable(added)) await added;
    return ACK;
  };
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function failed(
  delivery: Delivery,
  spec: SubscriptionSpec,
  error: DeadLetterError,
  ctx: ConsumerContext,
): Outcome {
  const firstFailureAt = delivery.firstFailureAt ?? new Date(ctx.clock.now()).toISOString();
  const retryIndex = delivery.attempt - 1;
  if (retryIndex < spec.retryDelays.length) {
    ctx.stats.retriedEvents++;
    return { action: 'retry', retryIndex, error, firstFailureAt };
  }
  return { action: 'dead', reason: 'handler-failed', error, attempts: delivery.attempt, firstFailureAt };
}

/** The envelope of a delivery, its data parsed by its definition, or why it is invalid. */
function parseDelivery(
  delivery: Delivery,
  catalog: ReadonlyMap<string, EventDefinition>,
): EventEnvelope | { invalid: DeadLetterError } {
  let json: unknown;
  try {
    json = JSON.parse(delivery.body);
  } catch (error) {
    return { invalid: { code: 'INVALID_JSON', message: describeError(error).message } };
  }
  const envelope = envelopeSchema.safeParse(json);
  if (!envelope.success) {
    const issue = envelope.error.issues[0];
    return {
      invalid: {
        code: 'INVALID_ENVELOPE',
        message: `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
      },
    };
  }
  const definition = catalog.get(envelope.data.type);
  if (definition === undefined) return envelope.data as EventEnvelope;
  try {
    const data = parseEventData(definition, envelope.data.data, `event '${envelope.data.type}'`);
    return { ...(envelope.data as EventEnvelope), data };
  } catch (error) {
    return { invalid: { code: 'INVALID_DATA', message: describeError(error).message } };
  }
}
