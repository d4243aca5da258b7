import { objectOption } from '@clone/internal';
import { parseOptions } from '@clone/service-errors';
import type { MeterProvider, TracerProvider } from '@opentelemetry/api';
import { z } from 'zod';

const schema = z.strictObject({
  meterProvider: objectOption<MeterProvider>(['getMeter'], 'must be a MeterProvider').optional(),
  tracerProvider: objectOption<TracerProvider>(['getTracer'], 'must be a TracerProvider').optional(),
  name: z.string().min(1, { error: 'must be a non-empty string' }).optional(),
});

/**
 * Options of every `instrument*` function: the providers to record through (default the
 * global ones) and, for sources that do not know their own name (a lone breaker, a bulkhead,
 * an event bus), the `name` their metrics carry.
 */
export type InstrumentationOptions = z.input<typeof schema>;

/** Parsed {@link InstrumentationOptions}. @internal */
export type ParsedInstrumentationOptions = z.output<typeof schema>;

/** Checks instrumentation options once: a bad value throws BAD_REQUEST naming it. @internal */
export function parseInstrumentationOptions(
  input: InstrumentationOptions | undefined,
  context: string,
): ParsedInstrumentationOptions {
  return parseOptions(schema, input ?? {}, context);
}

/** A source of typed events: every `@clone` facade's `on(event, listener)` returning an unsubscribe. */
export interface EventSource<Events> {
  on<K extends keyof Events>(event: K, listener: (payload: Events[K]) => void): () => void;
}

/** Unsubscribes every listener in `list`: what each `instrument*` returns. @internal */
export function unsubscribeAll(list: Array<() => void>): () => void {
  return () => {
    for (const off of list.splice(0)) off();
  };
}
