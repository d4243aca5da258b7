/**
 * Every failure a service call can end in. The first fifteen are the design document's
 * codes, unchanged; the rest exist because gRPC and the policies need them:
 * - `CANCELLED`: the caller aborted (AbortSignal, gRPC CANCELLED); never retried.
 * - `BULKHEAD_FULL`: a bulkhead rejected the call before it started; distinct from a rate
 *   limit because it is local back-pressure, not the remote side's quota.
 * - `CONFLICT`: gRPC ALREADY_EXISTS/ABORTED and HTTP 409 are neither bad requests nor outages.
 * - `NOT_IMPLEMENTED`: gRPC UNIMPLEMENTED and HTTP 501; a peer without the method is not "not found".
 */
export enum ServiceErrorCode {
  // Client errors
  BAD_REQUEST = 'BAD_REQUEST',
  UNAUTHORIZED = 'UNAUTHORIZED',
  FORBIDDEN = 'FORBIDDEN',
  NOT_FOUND = 'NOT_FOUND',

  // Server errors
  INTERNAL_ERROR = 'INTERNAL_ERROR',
  SERVICE_UNAVAILABLE = 'SERVICE_UNAVAILABLE',
  TIMEOUT = 'TIMEOUT',
  CIRCUIT_OPEN = 'CIRCUIT_OPEN',

  // Service-specific
  ASR_FAILED = 'ASR_FAILED',
  RAG_FAILED = 'RAG_FAILED',
  LLM_FAILED = 'LLM_FAILED',
  TTS_FAILED = 'TTS_FAILED',
  LIPSYNC_FAILED = 'LIPSYNC_FAILED',

  // Resource errors
  RATE_LIMIT_EXCEEDED = 'RATE_LIMIT_EXCEEDED',
  QUOTA_EXCEEDED = 'QUOTA_EXCEEDED',

  // Added beyond the design document (see above)
  CANCELLED = 'CANCELLED',
  BULKHEAD_FULL = 'BULKHEAD_FULL',
  CONFLICT = 'CONFLICT',
  NOT_IMPLEMENTED = 'NOT_IMPLEMENTED',
}

/** Codes whose errors are retryable unless the thrower says otherwise: transient by nature. */
const RETRYABLE_BY_DEFAULT: ReadonlySet<ServiceErrorCode> = new Set([
  ServiceErrorCode.SERVICE_UNAVAILABLE,
  ServiceErrorCode.TIMEOUT,
  ServiceErrorCode.RATE_LIMIT_EXCEEDED,
]);

/** Whether errors with this code are retryable when nothing more is known. */
export function isRetryableByDefault(code: ServiceErrorCode): boolean {
  return RETRYABLE_BY_DEFAULT.has(code);
}

const ALL_CODES: ReadonlySet<string> = new Set(Object.values(ServiceErrorCode));

/** Type guard for a string that names a {@link ServiceErrorCode}. */
export function isServiceErrorCode(value: unknown): value is ServiceErrorCode {
  return typeof value === 'string' && ALL_CODES.has(value);
}
