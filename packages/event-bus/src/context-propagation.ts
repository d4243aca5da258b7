import { formatValue } from '@clone/internal';
import { badRequest } from './bad-request';
import type { EventEnvelope } from './event';

/**
 * The envelope's `metadata` key the propagation headers (W3C `traceparent`, `tracestate`,
 * `baggage`) travel under. They live in the envelope body, not in transport headers, so the same
 * bytes carry them through the memory transport, RabbitMQ, retries, dead letters (and their
 * replay) and the PostgreSQL outbox.
 */
export const TRACE_HEADERS_KEY = 'traceHeaders';

/** Propagation headers: lower-case names to text values. */
export type PropagationHeaders = Record<string, string>;

/**
 * The context-propagation hook of an `EventBus` (`useContextPropagation`), such as
 * `@clone/telemetry`'s `traceEventBus`. By shape: this package does not depend on OpenTelemetry.
 */
export interface ContextPropagation {
  /**
   * Asked once per published event (for an outbox event: when it is added). Writes the headers
   * of the current context into `headers` before calling `send`, which stores them in the
   * envelope and publishes it; returns what `send` returns (a tracer wraps it in a producer span).
   */
  publish<T>(headers: PropagationHeaders, event: EventEnvelope, send: () => Promise<T>): Promise<T>;
  /**
   * Asked once per handler run: runs `handle` inside the context `headers` carry (a tracer wraps
   * it in a consumer span) and returns what it returns. `queue` is the subscription's queue.
   */
  consume<T>(headers: Readonly<PropagationHeaders>, event: EventEnvelope, queue: string, handle: () => T): T;
}

/** Where the bus and its consumers read the hook installed now; `current` is undefined without one. */
export interface PropagationSlot {
  current: ContextPropagation | undefined;
}

/** Checks a hook given to `useContextPropagation`: BAD_REQUEST naming `hook` when it is not one. */
export function checkPropagationHook(hook: unknown): ContextPropagation {
  const h = hook as Partial<ContextPropagation> | null | undefined;
  if (typeof h?.publish !== 'function' || typeof h.consume !== 'function') {
    throw badRequest(
      `useContextPropagation: hook must have publish and consume functions, got ${formatValue(hook)}`,
      'hook',
    );
  }
  return h as ContextPropagation;
}

/** Whether the event already carries propagation headers (an outbox row, a republished event). */
export function hasPropagationHeaders(event: EventEnvelope): boolean {
  return event.metadata?.[TRACE_HEADERS_KEY] !== undefined;
}

/** The event with `headers` in its metadata (a copy: the caller's envelope is not changed). */
export function withPropagationHeaders(event: EventEnvelope, headers: PropagationHeaders): EventEnvelope {
  return { ...event, metadata: { ...event.metadata, [TRACE_HEADERS_KEY]: headers } };
}

const NO_HEADERS: Readonly<PropagationHeaders> = Object.freeze({});

/**
 * The propagation headers a received event carries: only text values are kept, since the body
 * comes from the wire and anyone could have written it; none gives an empty (frozen) record.
 */
export function propagationHeadersOf(event: EventEnvelope): Readonly<PropagationHeaders> {
  const raw = event.metadata?.[TRACE_HEADERS_KEY];
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return NO_HEADERS;
  const headers: PropagationHeaders = {};
  for (const [key, value] of Object.entries(raw)) if (typeof value === 'string') headers[key] = value;
  return headers;
}
