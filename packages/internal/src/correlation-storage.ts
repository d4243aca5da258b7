import { AsyncLocalStorage } from 'node:async_hooks';

/** What every context of ours carries: the correlation id of the work being done. */
export interface CorrelationScope {
  readonly correlationId: string;
}

// One storage per process, shared by every package and every copy of one (each build inlines this
// file, and ESM and CJS copies may be loaded together): a gRPC handler's context must be seen by
// an event published inside it, and an event handler's by the gRPC calls it makes.
const KEY = Symbol.for('@clone/correlation-context');
const shared = globalThis as Record<symbol, unknown>;

/**
 * The process-wide AsyncLocalStorage of correlation contexts. Packages store their own richer
 * context in it (grpc-proto adds the attempt record and the inbound deadline); all read
 * `correlationId`.
 */
export function correlationStorage<T extends CorrelationScope>(): AsyncLocalStorage<T> {
  if (shared[KEY] === undefined) shared[KEY] = new AsyncLocalStorage<CorrelationScope>();
  return shared[KEY] as AsyncLocalStorage<T>;
}
