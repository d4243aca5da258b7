import { correlationStorage } from '@clone/internal';

// The same process-wide storage as @clone/grpc-proto's call context, without depending on that
// package: a gRPC call made inside a handler carries the event's correlation id, and an event
// published inside a gRPC handler carries the call's.
const storage = correlationStorage();

/** The correlation id of the code running now (a gRPC call or an event handler), if any. */
export function currentCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/** Runs `fn` with `correlationId` as the current correlation id. */
export function runWithCorrelationId<T>(correlationId: string, fn: () => T): T {
  return storage.run({ correlationId }, fn);
}
