import { ServiceError } from './service-error';

/**
 * The JSON body every @clone HTTP endpoint answers an error with (the API gateway's error
 * format): `success: false`, a message, the HTTP status, when, and the request it belongs to.
 * `code` is the ServiceErrorCode, so a caller can branch without parsing the message.
 */
export interface ErrorResponse {
  success: false;
  error: string;
  code: string;
  statusCode: number;
  timestamp: string;
  requestId?: string;
  details?: Record<string, unknown>;
}

/** What {@link toErrorResponse} and {@link writeErrorResponse} take besides the error. */
export interface ErrorResponseOptions {
  /** The request id to echo (`X-Request-ID`). */
  requestId?: string | undefined;
  /** Epoch ms for `timestamp`; defaults to now. */
  now?: number | undefined;
  /**
   * Whether the error's metadata goes out as `details`. Off by default: metadata is for logs,
   * and a public endpoint should not show internals unless asked to.
   */
  exposeDetails?: boolean | undefined;
}

/**
 * Turns anything thrown into the error body and its status. A value that is not a ServiceError
 * becomes INTERNAL_ERROR through `ServiceError.from`, so no stack or internal message leaks in a
 * way the error itself did not choose.
 */
export function toErrorResponse(error: unknown, options: ErrorResponseOptions = {}): ErrorResponse {
  const serviceError = ServiceError.from(error);
  const body: ErrorResponse = {
    success: false,
    error: serviceError.message,
    code: serviceError.code,
    statusCode: serviceError.httpStatus,
    timestamp: new Date(options.now ?? Date.now()).toISOString(),
  };
  if (options.requestId !== undefined) body.requestId = options.requestId;
  if (options.exposeDetails === true && serviceError.metadata !== undefined)
    body.details = serviceError.metadata;
  return body;
}

/** The part of node:http's `ServerResponse` an error is written through. */
export interface ErrorResponseTarget {
  statusCode: number;
  readonly headersSent: boolean;
  setHeader(name: string, value: string | number): unknown;
  end(chunk: string): unknown;
}

/**
 * Answers an HTTP request with {@link toErrorResponse}'s body: the status, JSON content type,
 * and `Retry-After` (whole seconds, rounded up) when the error carries server pushback
 * (`retryAfterMs`, as RATE_LIMIT_EXCEEDED and CIRCUIT_OPEN do). Does nothing once headers are
 * out: the response is already committed and only the connection can be ended.
 */
export function writeErrorResponse(
  res: ErrorResponseTarget,
  error: unknown,
  options: ErrorResponseOptions = {},
): ErrorResponse {
  const serviceError = ServiceError.from(error);
  const body = toErrorResponse(serviceError, options);
  if (res.headersSent) return body;
  const retryAfterMs = serviceError.retryAfterMs;
  res.statusCode = body.statusCode;
  res.setHeader('content-type', 'application/json; charset=utf-8');
  if (retryAfterMs !== undefined) res.setHeader('retry-after', Math.ceil(retryAfterMs / 1000));
  if (options.requestId !== undefined) res.setHeader('x-request-id', options.requestId);
  res.end(JSON.stringify(body));
  return body;
}
