import type { EventEnvelope } from './event';

/** Why an event ended in the dead letter queue. */
export type DeadLetterReason =
  /** Its handler failed on every attempt. */
  | 'handler-failed'
  /** The body was not JSON, not an envelope, or its data failed the event's schema. */
  | 'invalid'
  /** The broker delivered it `deliveryLimit` times without an ack (it crashed its consumers). */
  | 'delivery-limit';

/** The error a dead letter carries: what the last attempt failed with. */
export interface DeadLetterError {
  code: string;
  message: string;
}

/** An event the bus gave up on, with what is needed to fix and replay it. */
export interface DeadLetter {
  /** The event id, when the body was an envelope. */
  readonly id: string | undefined;
  /** The subscription queue it was dead-lettered from. */
  readonly queue: string;
  /** The routing key it was published with (its event type). */
  readonly routingKey: string;
  readonly reason: DeadLetterReason;
  readonly error: DeadLetterError | undefined;
  /** How many times it was handled (or delivered, for `delivery-limit`). */
  readonly attempts: number;
  /** When the first attempt failed, ISO 8601. */
  readonly firstFailureAt: string | undefined;
  /** The event, when the body was a valid envelope. */
  readonly event: EventEnvelope | undefined;
  /** The body as received. */
  readonly body: string;
}

/** Turns a thrown value into the code and message a dead letter keeps. */
export function describeError(error: unknown): DeadLetterError {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      code: typeof code === 'string' || typeof code === 'number' ? String(code) : error.name,
      message: error.message,
    };
  }
  return { code: 'UNKNOWN', message: String(error) };
}

/** The dead letter for a message the consumer gave up on (`outcome` says why). */
export function toDeadLetter(
  queue: string,
  body: string,
  routingKey: string,
  outcome: {
    reason: DeadLetterReason;
    error: DeadLetterError | undefined;
    attempts: number;
    firstFailureAt: string | undefined;
  },
): DeadLetter {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    parsed = undefined;
  }
  const id = (parsed as { id?: unknown } | undefined)?.id;
  return {
    id: typeof id === 'string' ? id : undefined,
    queue,
    routingKey,
    reason: outcome.reason,
    error: outcome.error,
    attempts: outcome.attempts,
    firstFailureAt: outcome.firstFailureAt,
    // Only an event that passed validation is handed back typed; an invalid one keeps its body.
    event: outcome.reason === 'invalid' ? undefined : (parsed as EventEnvelope),
    body,
  };
}
