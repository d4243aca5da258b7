import { httpStatusToError, parseRetryAfter, ServiceError } from '@clone/service-errors';
import { headerValue, isJsonType, type ResponseHeaders } from './response-body';

/** How much of an error body is read and kept: enough for any message, never a whole page. */
export const ERROR_BODY_LIMIT = 64 * 1024;

/** What an error response says about the request, for the error's metadata. */
export interface FailedRequest {
  service: string;
  method: string;
  path: string;
  now: number;
}

/**
 * A status of 400 or more as a ServiceError, by the shared HTTP map (`httpStatusToError`: 502,
 * 503, 504, 408 and 429 retryable). `Retry-After` (seconds or an HTTP date) becomes
 * `retryAfterMs`. The body (`text`, undefined when it was past `ERROR_BODY_LIMIT` or cut off)
 * is kept: a JSON error body (seed 004's `{ success: false, error }` or any JSON) in
 * `metadata.body` with its message as the error's, any other body as text.
 */
export function responseError(
  status: number,
  headers: ResponseHeaders,
  text: string | undefined,
  request: FailedRequest,
): ServiceError {
  const mapping = httpStatusToError(status);
  let body: unknown = text;
  if (text !== undefined && text.length > 0 && isJsonType(headerValue(headers, 'content-type'))) {
    try {
      body = JSON.parse(text);
    } catch {
      // Kept as text: the server said JSON but sent something else.
    }
  }
  const retryAfterMs = parseRetryAfter(headerValue(headers, 'retry-after'), request.now);
  const detail = messageOf(body);
  return new ServiceError(
    mapping.code,
    `${request.method} ${request.path} to ${request.service} failed with HTTP ${status}${detail === undefined ? '' : `: ${detail}`}`,
    request.service,
    {
      retryable: mapping.retryable,
      httpStatus: status,
      retryAfterMs,
      metadata: {
        status,
        method: request.method,
        path: request.path,
        ...(body === undefined || body === '' ? {} : { body }),
      },
    },
  );
}

/** The message of an error body: its `error` or `message` string, or short text. */
function messageOf(body: unknown): string | undefined {
  if (typeof body === 'string') return body.length > 0 && body.length <= 200 ? body : undefined;
  if (body === null || typeof body !== 'object') return undefined;
  const b = body as { error?: unknown; message?: unknown };
  if (typeof b.error === 'string') return b.error;
  if (b.error !== null && typeof b.error === 'object') {
    const inner = (b.error as { message?: unknown }).message;
    if (typeof inner === 'string') return inner;
  }
  return typeof b.message === 'string' ? b.message : undefined;
}
