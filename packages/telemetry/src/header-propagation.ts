import {
  type Context,
  context,
  propagation,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';

/** HTTP request headers (node:http, undici, fetch records) or AMQP message headers. */
export type HeaderCarrier = Record<string, unknown>;

/** Reads a header by its lower-case name; arrays give their first value, buffers their text (AMQP). */
const getter: TextMapGetter<HeaderCarrier> = {
  keys: (carrier) => Object.keys(carrier),
  get(carrier, key) {
    const value = carrier[key] ?? carrier[key.toLowerCase()];
    const first = Array.isArray(value) ? value[0] : value;
    if (typeof first === 'string') return first;
    if (first instanceof Uint8Array) return Buffer.from(first).toString('utf8');
    return undefined;
  },
};

const setter: TextMapSetter<HeaderCarrier> = {
  set(carrier, key, value) {
    carrier[key] = value;
  },
};

/**
 * Writes the context's `traceparent`, `tracestate` and `baggage` into HTTP or AMQP headers
 * through the globally registered propagator: the one propagator setup (the SDK's W3C
 * trace-context + baggage by default) serves gRPC metadata, HTTP and AMQP alike. Without a
 * registered propagator this writes nothing.
 */
export function injectTraceHeaders(headers: HeaderCarrier, from: Context = context.active()): void {
  propagation.inject(from, headers, setter);
}

/**
 * The context carried by HTTP or AMQP headers (a remote parent span and baggage) on top of
 * `base` (default the active context): run the handler in it, or pass it as a span's parent.
 */
export function extractTraceContext(headers: HeaderCarrier, base: Context = context.active()): Context {
  return propagation.extract(base, headers, getter);
}
