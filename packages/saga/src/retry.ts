import { type Clock, RetryPolicy, type ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { RetryLike } from './step-runner';

/**
 * The policy compensations use unless told otherwise. A compensation is retried whatever it
 * threw (a plain Error included): giving up leaves a half-undone transaction for a person to
 * clean, so only an abort (the orchestrator letting go of the saga) stops it early.
 */
export function defaultCompensationRetry(clock: Clock): RetryLike {
  return new RetryPolicy({
    maxAttempts: 5,
    initialDelayMs: 100,
    maxDelayMs: 2_000,
    shouldRetry: (error: ServiceError) => error.code !== ServiceErrorCode.CANCELLED,
    clock,
  });
}

/**
 * Seed 003's `retryAttempts`: `retries + 1` attempts with backoff. Only retryable errors are
 * retried (timeouts, unavailable services, a ServiceError marked retryable): retrying a
 * validation failure cannot help and costs the step's timeout again.
 */
export function retryAttemptsPolicy(retries: number, clock: Clock): RetryLike | undefined {
  return retries <= 0
    ? undefined
    : new RetryPolicy({ maxAttempts: retries + 1, initialDelayMs: 100, maxDelayMs: 5_000, clock });
}
