import { durationMs, functionOption, intAtLeast } from '@clone/internal';
import { z } from 'zod';
import { CircuitState, snapshotSchema } from './circuit-state';
import { ServiceErrorCode } from './error-code';
import { clockOption, loggerOption } from './option-schemas';
import type { ServiceError } from './service-error';

/** Codes that say nothing about the health of the callee, so they never open a circuit. */
const NOT_FAILURES: ReadonlySet<ServiceErrorCode> = new Set([
  ServiceErrorCode.BAD_REQUEST,
  ServiceErrorCode.UNAUTHORIZED,
  ServiceErrorCode.FORBIDDEN,
  ServiceErrorCode.NOT_FOUND,
  ServiceErrorCode.CONFLICT,
  ServiceErrorCode.CANCELLED,
  ServiceErrorCode.BULKHEAD_FULL,
]);

/**
 * The default `isFailure`: everything counts except the caller's own mistakes and decisions
 * (BAD_REQUEST, i.e. gRPC INVALID_ARGUMENT, NOT_FOUND, UNAUTHORIZED, FORBIDDEN, CONFLICT), a
 * cancellation by the caller, and a local bulkhead rejection.
 */
export function isCircuitFailure(error: ServiceError): boolean {
  return !NOT_FAILURES.has(error.code);
}

const RATE_TEXT = 'must be a number greater than 0 and at most 1';
const rate = () => z.number({ error: RATE_TEXT }).gt(0, { error: RATE_TEXT }).max(1, { error: RATE_TEXT });

/** How long a HALF_OPEN circuit waits for a probe that does not settle, without `timeout`. */
export const DEFAULT_HALF_OPEN_MAX_WAIT_MS = 60_000;

/** Options of a {@link CircuitBreaker}; every field is optional. */
export const circuitBreakerOptionsSchema = z.strictObject({
  /** Consecutive failures that open the circuit (default 5; see `slidingWindow`). */
  failureThreshold: intAtLeast(1).optional(),
  /** Successful probes in HALF_OPEN that close the circuit (default 2). */
  successThreshold: intAtLeast(1).default(2),
  /** Per-call timeout in ms: the operation's signal aborts and the call fails with TIMEOUT. */
  timeout: durationMs().optional(),
  /** How long the circuit stays OPEN before the next call probes it, in ms (default 60 000). */
  resetTimeoutMs: durationMs().default(60_000),
  /** Probes allowed in flight in HALF_OPEN (default 1). */
  halfOpenMaxConcurrent: intAtLeast(1).default(1),
  /**
   * How long every probe slot may stay taken before the circuit gives up on the probes, reopens
   * and probes again after `resetTimeoutMs`, in ms (default `timeout`, else 60 000): a probe
   * that never settles cannot wedge the breaker. A probe settling later is ignored.
   */
  halfOpenMaxWaitMs: durationMs().optional(),
  /**
   * Decide on a failure rate over a window instead of consecutive failures: the last `size`
   * calls, or the calls of the last `sizeMs` (in `buckets` steps, default 10).
   */
  slidingWindow: z
    .discriminatedUnion('type', [
      z.strictObject({ type: z.literal('count'), size: intAtLeast(1, 100_000) }),
      z.strictObject({
        type: z.literal('time'),
        sizeMs: durationMs(),
        buckets: intAtLeast(1, 1000).default(10),
      }),
    ])
    .optional(),
  /** Failure rate (0–1] over the window that opens the circuit (default 0.5). */
  failureRateThreshold: rate().default(0.5),
  /** Calls the window must hold before a rate is trusted (default 10). */
  minimumCalls: intAtLeast(1).default(10),
  /** A call taking at least this long (ms) is slow. */
  slowCallDurationMs: durationMs().optional(),
  /** Rate (0–1] of slow calls over the window that opens the circuit (default 1). */
  slowCallRateThreshold: rate().default(1),
  /**
   * Which errors count as failures; default {@link isCircuitFailure}. If it throws, the call
   * fails with INTERNAL_ERROR (the thrown value as `cause`) and counts as a failure.
   */
  isFailure: functionOption<(error: ServiceError, raw: unknown) => boolean>().optional(),
  /** Start in this state, or restore a `toJSON()` snapshot. */
  initialState: z.union([z.enum(CircuitState), snapshotSchema]).optional(),
  /** Name of the protected service, put on CIRCUIT_OPEN errors and log lines. */
  service: z.string().optional(),
  clock: clockOption.optional(),
  logger: loggerOption.optional(),
});

/** Options of a {@link CircuitBreaker}. */
export type CircuitBreakerOptions = z.input<typeof circuitBreakerOptionsSchema>;

/** Events of a {@link CircuitBreaker}. */
export interface CircuitBreakerEvents {
  stateChange: { from: CircuitState; to: CircuitState; reason: string };
  /** A call succeeded; `slow` when it took `slowCallDurationMs` or more. */
  success: { durationMs: number; slow: boolean };
  /** A call failed with an error that counts (see `isFailure`). */
  failure: { error: ServiceError; durationMs: number; slow: boolean };
  /** A call was rejected without running: OPEN, or HALF_OPEN with every probe slot taken. */
  rejected: { error: ServiceError; state: CircuitState };
  /** A call failed with TIMEOUT (the breaker's own `timeout` or the callee's deadline). */
  timeout: { error: ServiceError; durationMs: number };
}

/** What {@link CircuitBreaker.getStats} returns. */
export interface CircuitBreakerStats {
  state: CircuitState;
  isolated: boolean;
  /** Failures counted toward opening: consecutive failures, or failures in the window. */
  failureCount: number;
  /** Successes in the current state: since the last failure when CLOSED, probes in HALF_OPEN. */
  successCount: number;
  /** Calls in the sliding window (0 without one). */
  windowCalls: number;
  /** Probes in flight (HALF_OPEN). */
  halfOpenInFlight: number;
  /** Clock ms of the last counted failure; undefined if none. */
  lastFailureTime: number | undefined;
  /** Clock ms from which the next call probes an OPEN circuit; undefined unless OPEN. */
  nextAttemptTime: number | undefined;
  totalSuccesses: number;
  totalFailures: number;
  /** Calls that failed with an error that does not count (see `isFailure`). */
  totalIgnored: number;
  totalRejections: number;
  totalTimeouts: number;
}
