import { CORRELATION_ID_HEADER, isValidCorrelationId } from '@clone/http-client';
import { correlationStorage, randomId } from '@clone/internal';
import type { Metadata } from '@grpc/grpc-js';

/** The metadata key (and HTTP header) that carries a request's correlation id across services. */
export { CORRELATION_ID_HEADER, isValidCorrelationId };

/** What the calls made inside one `executeServiceCall` attempt did, for the retry decision. */
export interface AttemptRecord {
  /** gRPC calls started in this attempt. */
  calls: number;
  /** Whether one of them is not marked idempotent in its proto. */
  nonIdempotent: boolean;
  /** Latest deadline (epoch ms) of calls started in this attempt (the breaker's `timeout`). */
  deadline: number;
  /** The method of the first gRPC call of this attempt (`Transcribe`), once one started. */
  method: string | undefined;
}

/**
 * The context of the work being done: the correlation id every outgoing call carries and,
 * inside `executeServiceCall`, the record of the current attempt. One object per scope, so
 * entering a scope costs one allocation and one `AsyncLocalStorage.run`.
 */
export interface CallContext {
  readonly correlationId: string;
  readonly attempt?: AttemptRecord | undefined;
  /**
   * Deadline (epoch ms) of the inbound call being served: calls made onward inherit it, so a
   * caller that gave up is not still being worked for two hops down.
   */
  readonly deadline?: number | undefined;
}

// The process-wide storage the event bus shares: an event published in a handler carries its id.
const storage = correlationStorage<CallContext>();

/** The current call context, if the code runs inside one. */
export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/** The correlation id of the current context, if any. */
export function getCorrelationId(): string | undefined {
  return storage.getStore()?.correlationId;
}

/**
 * A new correlation id: a random UUID, or what `source` returns when given (the
 * `createCorrelationId` option of the manager, the client factory and the server, for
 * repeatable ids in tests and for ids in a format of your own).
 */
export function newCorrelationId(source?: () => string): string {
  return randomId(source);
}

/** Runs `fn` in a context with `context` as its call context. */
export function runInCallContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

/**
 * Runs `fn` with `correlationId` (a new one when omitted): every call made through a client of
 * this package inside `fn`, however deep in its async work, carries it as `x-correlation-id`.
 */
export function withCorrelationId<T>(correlationId: string | undefined, fn: () => T): T {
  return storage.run({ correlationId: correlationId ?? newCorrelationId() }, fn);
}

/**
 * The correlation id of inbound metadata when it holds a sane one (1–128 printable ASCII
 * characters), else undefined.
 */
export function readCorrelationId(metadata: Metadata): string | undefined {
  const value = metadata.get(CORRELATION_ID_HEADER)[0];
  return isValidCorrelationId(value) ? value : undefined;
}
