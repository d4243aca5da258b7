import { randomId } from '@clone/internal';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { Dispatcher } from 'undici';
import { headerIndex, setHeader } from './header-list';
import { IDEMPOTENCY_KEY_HEADER, isRetrySafe } from './idempotency';
import { CORRELATION_ID_HEADER } from './propagation-headers';
import { encodeBody } from './request-body';
import type { ResponseType } from './response-body';
import type { RequestOptions } from './service-client-options';
import { checkPath } from './target';

/** What every request of one client starts from. @internal */
export interface RequestDefaults {
  readonly serviceName: string;
  /** The client's headers, checked at construction: a flat [name, value, …] list, lower-case names. */
  readonly headers: readonly string[];
  readonly maxResponseBytes: number;
  readonly autoIdempotencyKey: boolean;
  readonly createCorrelationId: (() => string) | undefined;
}

/** A request checked and encoded, ready for its attempts. @internal */
export interface PreparedRequest {
  readonly method: Dispatcher.HttpMethod;
  /** Path and query, without the target's prefix. */
  readonly path: string;
  /** Every header but the per-attempt ones (authorization, deadline), as [name, value, …]. */
  readonly headers: readonly string[];
  readonly body: Dispatcher.DispatchOptions['body'];
  /** Whether the request may be sent again (idempotent or keyed, and a replayable body). */
  readonly retrySafe: boolean;
  readonly responseType: ResponseType;
  readonly maxResponseBytes: number;
  /** Whether the caller gave a signal: only then does an exchange listen to one (see Exchange). */
  readonly abortable: boolean;
}

/** Methods taken as they are, without a check. */
const COMMON_METHODS: ReadonlySet<string> = new Set([
  'GET',
  'POST',
  'PUT',
  'PATCH',
  'DELETE',
  'HEAD',
  'OPTIONS',
]);

/** An RFC 9110 token: what a header name may be. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

function badRequest(message: string, field: string, service: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, service, {
    retryable: false,
    metadata: { field },
  });
}

/**
 * Checks and encodes one request before anything is sent: the method, the path (and query),
 * the request's headers, the idempotency key, the body. Adds `correlationId`, the current
 * context's (a new one outside any) and, with `autoIdempotencyKey`, a key for a POST or PATCH.
 * Throws BAD_REQUEST naming the field. @internal
 */
export function prepareRequest(
  method: string,
  path: string,
  body: unknown,
  options: RequestOptions,
  defaults: RequestDefaults,
  correlationId: string | undefined,
): PreparedRequest {
  const service = defaults.serviceName;
  const verb = COMMON_METHODS.has(method) ? method : typeof method === 'string' ? method.toUpperCase() : '';
  if (!COMMON_METHODS.has(verb) && !/^[A-Z]{1,20}$/.test(verb))
    throw badRequest(`method must be an HTTP method, got ${JSON.stringify(method)}`, 'method', service);
  let fullPath = checkPath(path, service);
  if (options.query !== undefined) {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(options.query)) query.append(key, String(value));
    const text = query.toString();
    if (text !== '') fullPath += (fullPath.includes('?') ? '&' : '?') + text;
  }
  // A flat [name, value, …] list, as undici takes it: copying one costs far less than spreading
  // an object of header names. The client's own headers were checked at construction; a
  // request's are checked here.
  const headers = defaults.headers.slice();
  if (options.headers !== undefined) {
    for (const [name, value] of Object.entries(options.headers)) {
      if (typeof value !== 'string' || !HEADER_NAME.test(name) || /[\r\n\0]/.test(value)) {
        throw badRequest(
          `header ${name} must be a token name with a string value without CR, LF or NUL`,
          `headers.${name}`,
          service,
        );
      }
      setHeader(headers, name.toLowerCase(), value);
    }
  }
  setHeader(headers, CORRELATION_ID_HEADER, correlationId ?? randomId(defaults.createCorrelationId));
  const key = options.idempotencyKey;
  if (key !== undefined) {
    if (typeof key !== 'string' || !/^[\x21-\x7e]{1,255}$/.test(key)) {
      throw badRequest(
        `idempotencyKey must be 1-255 printable ASCII characters, got ${JSON.stringify(key)}`,
        'idempotencyKey',
        service,
      );
    }
    setHeader(headers, IDEMPOTENCY_KEY_HEADER, key);
  } else if (
    defaults.autoIdempotencyKey &&
    (verb === 'POST' || verb === 'PATCH') &&
    headerIndex(headers, IDEMPOTENCY_KEY_HEADER) < 0
  ) {
    headers.push(IDEMPOTENCY_KEY_HEADER, randomId());
  }
  let encoded: ReturnType<typeof encodeBody>;
  try {
    encoded = encodeBody(body);
  } catch (error) {
    throw new ServiceError(
      ServiceErrorCode.BAD_REQUEST,
      `body of ${verb} ${path} cannot be sent as JSON`,
      service,
      {
        retryable: false,
        cause: error,
        metadata: { field: 'body' },
      },
    );
  }
  if (encoded.contentType !== undefined && headerIndex(headers, 'content-type') < 0) {
    headers.push('content-type', encoded.contentType);
  }
  const maxResponseBytes = options.maxResponseBytes ?? defaults.maxResponseBytes;
  if (!Number.isInteger(maxResponseBytes) || maxResponseBytes < 0) {
    throw badRequest(
      `maxResponseBytes must be a non-negative integer, got ${String(maxResponseBytes)}`,
      'maxResponseBytes',
      service,
    );
  }
  return {
    method: verb as Dispatcher.HttpMethod,
    path: fullPath,
    headers,
    body: encoded.body as Dispatcher.DispatchOptions['body'],
    retrySafe: encoded.replayable && isRetrySafe(verb, headerIndex(headers, IDEMPOTENCY_KEY_HEADER) >= 0),
    responseType: options.responseType ?? 'json',
    maxResponseBytes,
    abortable: options.signal !== undefined,
  };
}
