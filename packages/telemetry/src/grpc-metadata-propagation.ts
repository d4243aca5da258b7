import type { Metadata } from '@grpc/grpc-js';
import { type Context, context, propagation, type TextMapGetter } from '@opentelemetry/api';
import { carrierSetter } from './rpc-span';

const getter: TextMapGetter<Metadata> = {
  keys: (metadata) => Object.keys(metadata.getMap()),
  get(metadata, key) {
    const values = metadata.get(key);
    const first = values[0];
    return first === undefined ? undefined : typeof first === 'string' ? first : first.toString('utf8');
  },
};

/** Writes the context's W3C trace context and baggage into gRPC metadata (the global propagator). */
export function injectMetadata(metadata: Metadata, from: Context = context.active()): void {
  propagation.inject(from, metadata, carrierSetter);
}

/** The context carried by gRPC metadata on top of `base` (default the active context). */
export function extractMetadata(metadata: Metadata, base: Context = context.active()): Context {
  return propagation.extract(base, metadata, getter);
}
