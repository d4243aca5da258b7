import { correlationStorage } from '@clone/internal';

/** The header that carries a request's correlation id across services (the same key gRPC uses). */
export const CORRELATION_ID_HEADER = 'x-correlation-id';

/**
 * The header that carries the time the caller still waits for an answer, in whole ms. Relative
 * rather than an instant, so clocks that disagree between hosts do not shorten or stretch it.
 */
export const DEADLINE_HEADER = 'x-request-timeout-ms';

/** The header naming the calling service. */
export const SERVICE_NAME_HEADER = 'x-service-name';

/**
 * The shape of the process-wide correlation context as HTTP reads and writes it: the same
 * storage and fields gRPC uses (`correlationId`, and `deadline` in epoch ms of the inbound call),
 * so gRPC → HTTP → gRPC keeps one id and one deadline.
 */
export interface HttpCallContext {
  readonly correlationId: string;
  readonly deadline?: number | undefined;
}

/** The process-wide storage of call contexts, shared with gRPC and the event bus. */
export const callContextStorage = correlationStorage<HttpCallContext>();

// Printable ASCII without spaces, bounded: an id from outside is echoed into logs and onward calls.
const VALID_ID = /^[\x21-\x7e]{1,128}$/;

/** Whether `value` can be sent as a correlation id (1–128 printable ASCII characters, no spaces). */
export function isValidCorrelationId(value: unknown): value is string {
  return typeof value === 'string' && VALID_ID.test(value);
}

/**
 * The remaining time of a `x-request-timeout-ms` value in ms: a non-negative integer of at most
 * 2^31−1 (digits only, no sign, no exponent), else undefined, so a bad header never shortens a call.
 */
export function parseDeadlineHeader(value: string | readonly string[] | undefined): number | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  if (typeof text !== 'string' || !/^\d{1,10}$/.test(text)) return undefined;
  const ms = Number(text);
  return ms <= 2_147_483_647 ? ms : undefined;
}
