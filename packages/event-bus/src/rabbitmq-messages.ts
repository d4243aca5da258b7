import type { ConsumeMessage, GetMessage, MessagePropertyHeaders } from 'amqplib';
import { type DeadLetter, type DeadLetterReason, toDeadLetter } from './dead-letter';
import type { Delivery, Outcome } from './transport';

/** Headers this bus sets on a message it sends again: to a retry queue, the dead letters, or back on replay. */
export const HEADER = {
  attempt: 'x-attempt',
  firstFailureAt: 'x-first-failure-at',
  routingKey: 'x-original-routing-key',
  reason: 'x-dead-letter-reason',
  errorCode: 'x-error-code',
  errorMessage: 'x-error-message',
} as const;

/** A broker message as the consumer sees it. */
export function toDelivery(message: ConsumeMessage): Delivery {
  const headers = message.properties.headers ?? {};
  const attempt = Number(headers[HEADER.attempt] ?? 1);
  return {
    body: message.content.toString('utf8'),
    // A retry travels back through the default exchange under the queue's name: keep the original.
    routingKey: stringHeader(headers, HEADER.routingKey) ?? message.fields.routingKey,
    attempt: Number.isInteger(attempt) && attempt >= 1 ? attempt : 1,
    firstFailureAt: stringHeader(headers, HEADER.firstFailureAt),
  };
}

/** The headers of a message re-sent for a retry or to the dead letters: the originals plus why. */
export function outcomeHeaders(
  message: ConsumeMessage,
  delivery: Delivery,
  outcome: Outcome & { action: 'retry' | 'dead' },
): MessagePropertyHeaders {
  const headers: MessagePropertyHeaders = {
    ...(message.properties.headers ?? {}),
    [HEADER.routingKey]: delivery.routingKey,
    [HEADER.errorCode]: outcome.error.code,
    [HEADER.errorMessage]: outcome.error.message.slice(0, 1000),
  };
  if (outcome.firstFailureAt !== undefined) headers[HEADER.firstFailureAt] = outcome.firstFailureAt;
  if (outcome.action === 'retry') headers[HEADER.attempt] = delivery.attempt + 1;
  else {
    headers[HEADER.attempt] = outcome.attempts;
    headers[HEADER.reason] = outcome.reason;
  }
  return headers;
}

/** Headers for a dead letter put back on its queue: a first attempt again. */
export function replayHeaders(message: GetMessage): MessagePropertyHeaders {
  const headers: MessagePropertyHeaders = { ...(message.properties.headers ?? {}) };
  for (const key of [
    HEADER.attempt,
    HEADER.firstFailureAt,
    HEADER.reason,
    HEADER.errorCode,
    HEADER.errorMessage,
  ]) {
    delete headers[key];
  }
  delete headers['x-death'];
  delete headers['x-delivery-count'];
  headers[HEADER.routingKey] = routingKeyOf(message);
  return headers;
}

/**
 * A message read from a dead-letter queue. Ours carry the reason in headers; one the broker
 * dead-lettered itself (the delivery limit) carries `x-death` instead.
 */
export function deadLetterFromMessage(queue: string, message: GetMessage): DeadLetter {
  const headers = message.properties.headers ?? {};
  const reason = (stringHeader(headers, HEADER.reason) as DeadLetterReason | undefined) ?? 'delivery-limit';
  const code = stringHeader(headers, HEADER.errorCode);
  const deliveryCount = Number(headers['x-delivery-count'] ?? 0);
  return toDeadLetter(queue, message.content.toString('utf8'), routingKeyOf(message), {
    reason,
    error:
      code !== undefined
        ? { code, message: stringHeader(headers, HEADER.errorMessage) ?? '' }
        : reason === 'delivery-limit'
          ? {
              code: 'DELIVERY_LIMIT',
              message: 'delivered too many times without an ack (its consumer died each time)',
            }
          : undefined,
    attempts: reason === 'delivery-limit' ? deliveryCount + 1 : Number(headers[HEADER.attempt] ?? 0),
    firstFailureAt: stringHeader(headers, HEADER.firstFailureAt),
  });
}

function routingKeyOf(message: GetMessage): string {
  const headers = message.properties.headers ?? {};
  const death = (headers['x-death'] as { 'routing-keys'?: string[] }[] | undefined)?.[0];
  return (
    stringHeader(headers, HEADER.routingKey) ?? death?.['routing-keys']?.[0] ?? message.fields.routingKey
  );
}

function stringHeader(headers: MessagePropertyHeaders, key: string): string | undefined {
  const value = headers[key];
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  return undefined;
}
