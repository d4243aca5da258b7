import { MAX_TIMER_MS } from '@clone/internal';
import { ServiceErrorCode } from './error-code';

/** How an HTTP status becomes a ServiceError: the code and whether a retry may help. */
export interface HttpStatusMapping {
  readonly code: ServiceErrorCode;
  readonly retryable: boolean;
}

/**
 * HTTP status → ServiceError code. 408, 429, 502, 503 and 504 are retryable (the request
 * did not reach a healthy handler, or the server asked us to come back); other 4xx are
 * BAD_REQUEST and other 5xx INTERNAL_ERROR, both final.
 */
export function httpStatusToError(status: number): HttpStatusMapping {
  switch (status) {
    case 400:
    case 422:
      return { code: ServiceErrorCode.BAD_REQUEST, retryable: false };
    case 401:
      return { code: ServiceErrorCode.UNAUTHORIZED, retryable: false };
    case 403:
      return { code: ServiceErrorCode.FORBIDDEN, retryable: false };
    case 404:
    case 410:
      return { code: ServiceErrorCode.NOT_FOUND, retryable: false };
    case 408:
      return { code: ServiceErrorCode.TIMEOUT, retryable: true };
    case 409:
      return { code: ServiceErrorCode.CONFLICT, retryable: false };
    case 429:
      return { code: ServiceErrorCode.RATE_LIMIT_EXCEEDED, retryable: true };
    case 501:
      return { code: ServiceErrorCode.NOT_IMPLEMENTED, retryable: false };
    case 502:
    case 503:
      return { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true };
    case 504:
      return { code: ServiceErrorCode.TIMEOUT, retryable: true };
    default:
      return status >= 500
        ? { code: ServiceErrorCode.INTERNAL_ERROR, retryable: false }
        : { code: ServiceErrorCode.BAD_REQUEST, retryable: false };
  }
}

/** ServiceError code → the HTTP status an HTTP endpoint should answer with. */
export const ERROR_TO_HTTP_STATUS: Readonly<Record<ServiceErrorCode, number>> = {
  [ServiceErrorCode.BAD_REQUEST]: 400,
  [ServiceErrorCode.UNAUTHORIZED]: 401,
  [ServiceErrorCode.FORBIDDEN]: 403,
  [ServiceErrorCode.NOT_FOUND]: 404,
  [ServiceErrorCode.INTERNAL_ERROR]: 500,
  [ServiceErrorCode.SERVICE_UNAVAILABLE]: 503,
  [ServiceErrorCode.TIMEOUT]: 504,
  [ServiceErrorCode.CIRCUIT_OPEN]: 503,
  [ServiceErrorCode.ASR_FAILED]: 500,
  [ServiceErrorCode.RAG_FAILED]: 500,
  [ServiceErrorCode.LLM_FAILED]: 500,
  [ServiceErrorCode.TTS_FAILED]: 500,
  [ServiceErrorCode.LIPSYNC_FAILED]: 500,
  [ServiceErrorCode.RATE_LIMIT_EXCEEDED]: 429,
  [ServiceErrorCode.QUOTA_EXCEEDED]: 429,
  [ServiceErrorCode.CANCELLED]: 499,
  [ServiceErrorCode.BULKHEAD_FULL]: 503,
  [ServiceErrorCode.CONFLICT]: 409,
  [ServiceErrorCode.NOT_IMPLEMENTED]: 501,
};

/**
 * Parses an HTTP `Retry-After` value (delta-seconds or an HTTP date) into whole milliseconds
 * from `now`, rounded up and capped at 2^31−1 (the longest a timer holds: a far date or a huge
 * number reads as that, never as an overflow). Returns undefined for anything unparseable, so a
 * bad header never blocks a retry.
 */
export function parseRetryAfter(
  value: string | number | undefined | null,
  now = Date.now(),
): number | undefined {
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'number')
    return Number.isFinite(value) && value >= 0 ? toTimerMs(value * 1000) : undefined;
  if (typeof value !== 'string') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return toTimerMs(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : toTimerMs(Math.max(0, date - now));
}

function toTimerMs(ms: number): number {
  return Math.min(Math.ceil(ms), MAX_TIMER_MS);
}
