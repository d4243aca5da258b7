import {
  type Clock,
  isServiceError,
  RetryPolicy,
  type ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
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
 * A step's `retryAttempts`: `retries + 1` attempts with backoff. A handler that throws a plain
 * Error (as handlers written without this library's errors do) is retried: asking for retries
 * says the step is worth another try. A ServiceError decides for itself through `retryable` (a validation failure is
 * not retried), and an abort (timeout of the saga, cancel) never is.
 */
export function retryAttemptsPolicy(retries: number, clock: Clock): RetryLike | undefined {
  return retries <= 0
    ? undefined
    : new RetryPolicy({
        maxAttempts: retries + 1,
        initialDelayMs: 100,
        maxDelayMs: 5_000,
        shouldRetry: (error, { retryable }) => {
          if (error.code === ServiceErrorCode.CANCELLED) return false;
          if (retryable) return true;
          // A handler's plain Error reaches the policy wrapped by ServiceError.from: an
          // INTERNAL_ERROR whose cause is the original, not a ServiceError.
          return (
            error.code === ServiceErrorCode.INTERNAL_ERROR &&
            error.cause instanceof Error &&
            !isServiceError(error.cause)
          );
        },
        clock,
      });
}
