export { type BackoffOptions, backoffCeiling, backoffDelay, type Jitter } from './backoff';
export {
  Bulkhead,
  type BulkheadEvents,
  type BulkheadOptions,
  type BulkheadStats,
  bulkheadOptionsSchema,
} from './bulkhead';
export { CircuitBreaker } from './circuit-breaker';
export {
  type CircuitBreakerEvents,
  type CircuitBreakerOptions,
  type CircuitBreakerStats,
  circuitBreakerOptionsSchema,
  isCircuitFailure,
} from './circuit-breaker-options';
export { type CircuitBreakerSnapshot, CircuitState } from './circuit-state';
export { type Clock, systemClock, type TimerHandle } from './clock';
export { ComposedPolicy, compose, type PolicySet, type SubstituteOf } from './compose';
export { Emitter, type Listener, type Unsubscribe } from './emitter';
export { circuitBreakerOptionsFromEnv, type Env, retryOptionsFromEnv } from './env-options';
export { isRetryableByDefault, isServiceErrorCode, ServiceErrorCode } from './error-code';
export {
  type ErrorResponse,
  type ErrorResponseOptions,
  type ErrorResponseTarget,
  toErrorResponse,
  writeErrorResponse,
} from './error-response';
export { Fallback, type FallbackEvents, type FallbackOptions } from './fallback';
export {
  ERROR_TO_GRPC_STATUS,
  GRPC_STATUS_TO_ERROR,
  GrpcStatus,
  type GrpcStatusMapping,
  type GrpcStatusName,
  grpcStatusName,
} from './grpc-status';
export {
  ERROR_TO_HTTP_STATUS,
  type HttpStatusMapping,
  httpStatusToError,
  parseRetryAfter,
} from './http-status';
export { type Logger, noopLogger } from './logger';
export {
  abortError,
  type ExecuteContext,
  isThenable,
  type Operation,
  type Policy,
  rootContext,
} from './policy';
export {
  RetryBudget,
  type RetryBudgetOptions,
  type RetryBudgetStats,
  retryBudgetOptionsSchema,
} from './retry-budget';
export {
  type GiveUpReason,
  type RetryableError,
  type RetryDecision,
  type RetryEvents,
  type RetryOptions,
  RetryPolicy,
  retryOptionsSchema,
} from './retry-policy';
export {
  isServiceError,
  ServiceError,
  type ServiceErrorJSON,
  type ServiceErrorOptions,
  toGrpcStatus,
} from './service-error';
export { Timeout, type TimeoutEvents, type TimeoutOptions, timeoutOptionsSchema } from './timeout';
export { parseOptions } from './validation';
