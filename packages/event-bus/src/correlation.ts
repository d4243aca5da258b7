import { AsyncLocalStorage } from 'node:async_hooks';

/** The context a handler runs in: the correlation id of the event being handled. */
interface CorrelationContext {
  readonly correlationId: string;
}

// The same process-wide storage as @clone/grpc-proto's call context (same global key), without
// depending on that package: a gRPC call made inside a handler carries the event's correlation id,
// and an event published inside a gRPC handler carries the call's.
const KEY = Symbol.for('@clone/grpc-proto.call-context');
const shared = globalThis as Record<symbol, unknown>;
if (shared[KEY] === undefined) shared[KEY] = new AsyncLocalStorage<CorrelationContext>();
const storage = shared[KEY] as AsyncLocalStorage<CorrelationContext>;

/** The correlation id of the code running now (a gRPC call or an event handler), if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Runs `fn` with `correlationId` as the current correlation id. */
export function runWithCorrelationId<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}
