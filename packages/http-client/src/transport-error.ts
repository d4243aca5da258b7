import { isServiceError, ServiceError, ServiceErrorCode } from '@clone/service-errors';

/** undici and socket codes of a request that ran out of time on the wire. */
const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);

/**
 * A failure below HTTP (refused or reset connection, a socket closed mid-response, a DNS miss,
 * a transport timeout) as a ServiceError: SERVICE_UNAVAILABLE or TIMEOUT, both retryable, the
 * undici error as `cause`. A ServiceError (a timeout's or a caller's abort reason) passes as is.
 */
export function transportError(error: unknown, service: string, target: string): ServiceError {
  if (isServiceError(error)) return error;
  const code = (error as { code?: unknown } | null)?.code;
  const text = error instanceof Error ? error.message : String(error);
  const timedOut = typeof code === 'string' && TIMEOUT_CODES.has(code);
  return new ServiceError(
    timedOut ? ServiceErrorCode.TIMEOUT : ServiceErrorCode.SERVICE_UNAVAILABLE,
    `HTTP request to ${service} at ${target} failed: ${text}`,
    service,
    {
      retryable: true,
      cause: error,
      metadata: { target, ...(typeof code === 'string' ? { errorCode: code } : {}) },
    },
  );
}
