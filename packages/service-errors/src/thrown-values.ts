import { formatValue, MAX_TIMER_MS } from '@clone/internal';
import { ServiceErrorCode } from './error-code';

/** Node socket and undici error codes, and what they mean for a service call. */
export const SOCKET_ERRORS: Readonly<Record<string, { code: ServiceErrorCode; retryable: boolean }>> = {
  ECONNREFUSED: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  ECONNRESET: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  ECONNABORTED: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  EPIPE: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  EHOSTUNREACH: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  ENETUNREACH: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  EAI_AGAIN: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
  // A name that does not resolve will not resolve on the next attempt either.
  ENOTFOUND: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: false },
  ETIMEDOUT: { code: ServiceErrorCode.TIMEOUT, retryable: true },
  ESOCKETTIMEDOUT: { code: ServiceErrorCode.TIMEOUT, retryable: true },
  UND_ERR_CONNECT_TIMEOUT: { code: ServiceErrorCode.TIMEOUT, retryable: true },
  UND_ERR_SOCKET: { code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true },
};

/** The gRPC pushback (`grpc-retry-pushback-ms`) in grpc-js metadata, in ms; undefined if none. */
export function grpcPushback(metadata: unknown): number | undefined {
  const get = (metadata as { get?: (key: string) => unknown[] } | undefined)?.get;
  if (typeof get !== 'function') return undefined;
  const values = get.call(metadata, 'grpc-retry-pushback-ms');
  const first = Array.isArray(values) ? values[0] : undefined;
  const ms = typeof first === 'string' ? Number(first) : Number.NaN;
  // The gRPC spec: a negative or unparseable pushback means "do not retry"; we leave that
  // decision to the policy by reporting no pushback, and never invent one. A pushback longer
  // than a timer holds is kept as the longest one (a RetryPolicy gives up on it, see maxPushbackMs).
  return Number.isInteger(ms) && ms >= 0 ? Math.min(ms, MAX_TIMER_MS) : undefined;
}

/** A header of a fetch `Headers` or a plain headers object, as a string; undefined if absent. */
export function headerValue(headers: unknown, name: string): string | undefined {
  if (headers === undefined || headers === null || typeof headers !== 'object') return undefined;
  const h = headers as { get?: (n: string) => unknown } & Record<string, unknown>;
  const value = typeof h.get === 'function' ? h.get(name) : (h[name] ?? h[name.toLowerCase()]);
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

/** A thrown value as text for a message; never throws. */
export function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    try {
      return String(value);
    } catch {
      return formatValue(value);
    }
  }
}
