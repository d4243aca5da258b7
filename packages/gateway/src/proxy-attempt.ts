import type { IncomingMessage } from 'node:http';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { Dispatcher } from 'undici';
import type { ClientGone } from './client-gone';
import type { ServiceEntry } from './service-entry';

/** One request on its way upstream, as every attempt sends it. @internal */
export interface ProxyRequest {
  readonly service: string;
  readonly method: string;
  readonly path: string;
  readonly headers: Record<string, string | string[]>;
  /** The caller's body, streamed; null when there is none. */
  readonly body: IncomingMessage | null;
  /** Whether a failed attempt may be sent again: an idempotent method with no body to replay. */
  readonly replayable: boolean;
  /** Aborted when the client goes away. */
  readonly signal: ClientGone;
}

/**
 * An upstream answer that ended the attempt as a failure (502/503/504) but is the service's
 * own: a request that may not be retried gets it as it is, body included. @internal
 */
const upstreamAnswers = new WeakMap<object, Dispatcher.ResponseData>();

/**
 * The upstream answer behind a failed call, if an attempt kept one: looked up along the
 * `cause` chain, since the retry policy wraps the last attempt's error in its final one.
 * @internal
 */
export function upstreamAnswerOf(error: unknown): Dispatcher.ResponseData | undefined {
  for (let e = error, depth = 0; typeof e === 'object' && e !== null && depth < 4; depth++) {
    const answer = upstreamAnswers.get(e);
    if (answer !== undefined) return answer;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

const CONNECT_ERRORS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_CLOSED',
]);

/**
 * Sends one attempt to the next instance in rotation. Resolves with the response when it is
 * one the service meant (anything but 502/503/504); rejects with a ServiceError otherwise,
 * retryable only when the request is replayable. Every outcome is reported to outlier
 * detection. @internal
 */
export async function proxyAttempt(entry: ServiceEntry, r: ProxyRequest): Promise<Dispatcher.ResponseData> {
  if (r.signal.aborted) throw r.signal.reason;
  const upstreams = entry.upstreams;
  const u = upstreams.pick();
  if (u === undefined)
    throw new ServiceError(
      ServiceErrorCode.SERVICE_UNAVAILABLE,
      `No healthy instance of ${r.service}`,
      r.service,
      { retryable: false, httpStatus: 503 },
    );
  let data: Dispatcher.ResponseData;
  u.inFlight++;
  try {
    data = await u.pool.request({
      method: r.method as Dispatcher.HttpMethod,
      path: r.path,
      headers: r.headers,
      body: r.body,
      signal: r.signal,
    });
  } catch (error) {
    if (r.signal.aborted)
      throw new ServiceError(ServiceErrorCode.CANCELLED, 'The client went away', r.service, {
        retryable: false,
        cause: error,
      });
    const code = (error as { code?: string }).code ?? '';
    const connect = CONNECT_ERRORS.has(code);
    upstreams.failed(u, connect ? 'connect' : 'status');
    const timeout = code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT';
    throw new ServiceError(
      timeout ? ServiceErrorCode.TIMEOUT : ServiceErrorCode.SERVICE_UNAVAILABLE,
      `${r.service} instance ${u.instance.serviceId} ${timeout ? 'timed out' : `is unreachable (${code || 'error'})`}`,
      r.service,
      {
        retryable: r.replayable,
        httpStatus: timeout ? 504 : 502,
        cause: error,
        metadata: { serviceId: u.instance.serviceId },
      },
    );
  } finally {
    u.inFlight--;
  }
  const status = data.statusCode;
  if (status < 502 || status > 504) {
    upstreams.succeeded(u);
    return data;
  }
  upstreams.failed(u, 'status');
  const failure = ServiceError.fromHttpStatus(status, `${r.service} answered ${status}`, r.service, {
    retryAfter: data.headers['retry-after'] as string | undefined,
  });
  const error = new ServiceError(failure.code, failure.message, r.service, {
    retryable: r.replayable,
    httpStatus: status,
    retryAfterMs: failure.retryAfterMs,
    metadata: { serviceId: u.instance.serviceId, httpStatus: status },
  });
  if (r.replayable) data.body.dump().catch(() => undefined);
  else upstreamAnswers.set(error, data);
  return Promise.reject(error);
}
