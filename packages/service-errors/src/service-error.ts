import { formatValue } from '@clone/internal';
import { isRetryableByDefault, ServiceErrorCode } from './error-code';
import { ERROR_TO_GRPC_STATUS, GRPC_STATUS_TO_ERROR, type GrpcStatus, grpcStatusName } from './grpc-status';
import { ERROR_TO_HTTP_STATUS, httpStatusToError, parseRetryAfter } from './http-status';
import { argumentProblem } from './service-error-arguments';
import { describe, grpcPushback, headerValue, SOCKET_ERRORS } from './thrown-values';

/**
 * Marks ServiceError instances. `Symbol.for` makes the brand the same in every copy of this
 * package (ESM and CJS builds loaded together, two versions in one tree), so `instanceof` and
 * `isServiceError` hold across copies where a plain prototype check would not.
 */
const BRAND: unique symbol = Symbol.for('@clone/service-errors.ServiceError') as never;

/** Options of a {@link ServiceError} beyond its code, message and service. */
export interface ServiceErrorOptions {
  /** Whether a retry may succeed; defaults by code (SERVICE_UNAVAILABLE, TIMEOUT, RATE_LIMIT_EXCEEDED). */
  retryable?: boolean | undefined;
  /** Structured context; serialised by `toJSON()`, so keep it JSON-friendly. */
  metadata?: Record<string, unknown> | undefined;
  /** The error that caused this one, kept as the standard `Error.cause`. */
  cause?: unknown;
  /** The gRPC status this error maps to (an integer 0–16); defaults by code. */
  grpcStatus?: number | undefined;
  /** The HTTP status this error maps to (an integer 100–599); defaults by code. */
  httpStatus?: number | undefined;
  /**
   * Server pushback: how long the caller should wait before retrying, in whole ms between 0
   * and 2^31−1 (what a timer holds; `ServiceError.from` caps a longer pushback to it).
   */
  retryAfterMs?: number | undefined;
  /** How many attempts were made before this error was final (a positive integer; set by RetryPolicy). */
  attempts?: number | undefined;
}

/** The JSON shape of a ServiceError: safe to log or send, never carries a stack. */
export interface ServiceErrorJSON {
  name: 'ServiceError';
  code: ServiceErrorCode;
  message: string;
  service?: string;
  retryable: boolean;
  grpcStatus: number;
  httpStatus: number;
  metadata?: Record<string, unknown>;
  retryAfterMs?: number;
  attempts?: number;
  timestamp: string;
  cause?: { name: string; message: string; code?: string | number };
}

/**
 * The one error type every @clone package throws: a code, a message, the service it concerns,
 * whether a retry may help, and the original error as `cause`.
 *
 * The constructor checks its arguments (a {@link ServiceErrorCode}, a string message, the
 * ranges documented on {@link ServiceErrorOptions}) and throws a BAD_REQUEST ServiceError
 * naming the argument otherwise; `ServiceError.from` never throws.
 */
export class ServiceError extends Error {
  declare readonly [BRAND]: true;
  override readonly name = 'ServiceError';
  // Declared, set by assignFields: the same assignments build the stack-less variant.
  declare readonly code: ServiceErrorCode;
  declare readonly service: string | undefined;
  declare readonly retryable: boolean;
  declare readonly metadata: Record<string, unknown> | undefined;
  declare readonly grpcStatus: number;
  declare readonly httpStatus: number;
  declare readonly retryAfterMs: number | undefined;
  declare readonly attempts: number | undefined;
  declare readonly timestamp: Date;

  constructor(code: ServiceErrorCode, message: string, service?: string, options: ServiceErrorOptions = {}) {
    checkArguments(code, message, service, options);
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    assignFields(this as unknown as Fields, code, service, options);
  }

  static {
    // On the prototype, not each instance: a property per error would cost a define per failure.
    Object.defineProperty(ServiceError.prototype, BRAND, { value: true });
  }

  /** `instanceof ServiceError` holds for instances from any copy of this package. */
  static override [Symbol.hasInstance](value: unknown): boolean {
    // Subclasses keep ordinary prototype semantics; only the base class uses the brand.
    // biome-ignore lint/complexity/noThisInStatic: `this` is the class `instanceof` was called on.
    if (this !== ServiceError) return Function.prototype[Symbol.hasInstance].call(this, value);
    return isServiceError(value);
  }

  /**
   * Turns anything thrown into a ServiceError: grpc-js status errors (see
   * {@link GRPC_STATUS_TO_ERROR}), Node socket errors, AbortError and TimeoutError, HTTP
   * responses and HTTP client errors, strings and other values. A ServiceError is returned
   * as is (with `service` filled in when it had none).
   */
  static from(error: unknown, service?: string): ServiceError {
    try {
      return normalize(error, service);
    } catch {
      // A Proxy, a throwing getter, a revoked object: whatever was thrown stays the cause.
      return new ServiceError(
        ServiceErrorCode.INTERNAL_ERROR,
        'A thrown value could not be read',
        typeof service === 'string' ? service : undefined,
        { retryable: false, cause: error },
      );
    }
  }

  /** A ServiceError for an HTTP status, with `Retry-After` honoured as pushback. */
  static fromHttpStatus(
    status: number,
    message?: string,
    service?: string,
    options: { retryAfter?: string | number | undefined; cause?: unknown } = {},
  ): ServiceError {
    const mapping = httpStatusToError(status);
    return new ServiceError(mapping.code, message ?? `HTTP ${status}`, service, {
      retryable: mapping.retryable,
      httpStatus: status,
      retryAfterMs: parseRetryAfter(options.retryAfter),
      cause: options.cause,
      metadata: { httpStatus: status },
    });
  }

  /** A ServiceError for a gRPC status number, as `from()` maps a grpc-js status error. */
  static fromGrpcStatus(
    status: number,
    message?: string,
    service?: string,
    options: { retryAfterMs?: number | undefined; cause?: unknown } = {},
  ): ServiceError {
    const mapping = GRPC_STATUS_TO_ERROR[status] ?? GRPC_STATUS_TO_ERROR[2]!;
    return new ServiceError(mapping.code, message ?? `gRPC ${grpcStatusName(status) ?? status}`, service, {
      retryable: mapping.retryable,
      grpcStatus: status,
      retryAfterMs: options.retryAfterMs,
      cause: options.cause,
      metadata: { grpcStatus: grpcStatusName(status) ?? status },
    });
  }

  /** JSON without the stack: safe to log or return to a caller. */
  toJSON(): ServiceErrorJSON {
    const json: ServiceErrorJSON = {
      name: 'ServiceError',
      code: this.code,
      message: this.message,
      retryable: this.retryable,
      grpcStatus: this.grpcStatus,
      httpStatus: this.httpStatus,
      timestamp: this.timestamp.toISOString(),
    };
    if (this.service !== undefined) json.service = this.service;
    if (this.metadata !== undefined) json.metadata = this.metadata;
    if (this.retryAfterMs !== undefined) json.retryAfterMs = this.retryAfterMs;
    if (this.attempts !== undefined) json.attempts = this.attempts;
    const cause = this.cause;
    try {
      if (cause instanceof Error) {
        const code = (cause as { code?: unknown }).code;
        json.cause = { name: String(cause.name), message: String(cause.message) };
        if (typeof code === 'string' || typeof code === 'number') json.cause.code = code;
      } else if (cause !== undefined) {
        json.cause = { name: typeof cause, message: describe(cause) };
      }
    } catch {
      json.cause = { name: typeof cause, message: 'unreadable' };
    }
    return json;
  }
}

/** Whether `value` is a ServiceError from any copy of this package; optionally with `code`. */
export function isServiceError(value: unknown, code?: ServiceErrorCode): value is ServiceError {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { [BRAND]?: unknown })[BRAND] === true &&
    (code === undefined || (value as ServiceError).code === code)
  );
}

/**
 * A ServiceError built without capturing a stack trace, for errors that are decisions rather
 * than accidents (an open circuit rejecting at full request rate): same fields, same checks,
 * `instanceof ServiceError` and `isServiceError` hold; `stack` is the first line only.
 * Capturing a stack costs several times the rest of such a rejection, and this avoids it
 * without touching the process-wide `Error.stackTraceLimit`.
 */
export function serviceErrorWithoutStack(
  code: ServiceErrorCode,
  message: string,
  service: string | undefined,
  options: ServiceErrorOptions,
): ServiceError {
  checkArguments(code, message, service, options);
  return new StacklessServiceError(code, message, service, options) as unknown as ServiceError;
}

type Fields = { -readonly [K in keyof ServiceError]: ServiceError[K] };

/** Sets a ServiceError's fields from checked arguments, defaults by code. */
function assignFields(
  e: Fields,
  code: ServiceErrorCode,
  service: string | undefined,
  options: ServiceErrorOptions,
): void {
  e.code = code;
  e.service = service;
  e.retryable = options.retryable ?? isRetryableByDefault(code);
  e.metadata = options.metadata;
  e.grpcStatus = options.grpcStatus ?? ERROR_TO_GRPC_STATUS[code] ?? 13;
  e.httpStatus = options.httpStatus ?? ERROR_TO_HTTP_STATUS[code] ?? 500;
  e.retryAfterMs = options.retryAfterMs;
  e.attempts = options.attempts;
  e.timestamp = new Date();
}

/**
 * A ServiceError built by plain assignments (an `Error` constructor would capture a stack;
 * `Object.defineProperty` per field costs as much). Its prototype is `ServiceError.prototype`,
 * so methods, `instanceof` and the brand are the same.
 */
class StacklessServiceError {
  constructor(
    code: ServiceErrorCode,
    message: string,
    service: string | undefined,
    options: ServiceErrorOptions,
  ) {
    const e = this as unknown as Fields;
    e.message = message;
    e.name = 'ServiceError';
    assignFields(e, code, service, options);
  }

  /** The first line a captured stack would have had. */
  get stack(): string {
    return `ServiceError: ${(this as unknown as ServiceError).message}`;
  }
}
Object.setPrototypeOf(StacklessServiceError.prototype, ServiceError.prototype);

/** Throws BAD_REQUEST naming the first argument of a ServiceError that is out of its range. */
function checkArguments(code: unknown, message: unknown, service: unknown, options: unknown): void {
  const problem = argumentProblem(code, message, service, options);
  if (problem === undefined) return;
  throw new ServiceError(
    ServiceErrorCode.BAD_REQUEST,
    `ServiceError: ${problem.field} ${problem.text}, got ${formatValue(problem.value)}`,
    undefined,
    { retryable: false, metadata: { field: problem.field } },
  );
}

/** The gRPC status a server should answer with for any thrown value. */
export function toGrpcStatus(error: unknown): { code: GrpcStatus; details: string } {
  const e = ServiceError.from(error);
  return { code: e.grpcStatus as GrpcStatus, details: e.message };
}

function normalize(error: unknown, service?: string): ServiceError {
  if (isServiceError(error)) {
    if (service === undefined || error.service !== undefined) return error;
    return new ServiceError(error.code, error.message, service, {
      retryable: error.retryable,
      metadata: error.metadata,
      cause: error.cause,
      grpcStatus: error.grpcStatus,
      httpStatus: error.httpStatus,
      retryAfterMs: error.retryAfterMs,
      attempts: error.attempts,
    });
  }
  if (typeof error === 'string') {
    return new ServiceError(ServiceErrorCode.INTERNAL_ERROR, error, service, { retryable: false });
  }
  if (typeof error !== 'object' || error === null) {
    return new ServiceError(
      ServiceErrorCode.INTERNAL_ERROR,
      `Non-error thrown: ${describe(error)}`,
      service,
      {
        retryable: false,
        cause: error,
      },
    );
  }
  const e = error as Record<string, any>;
  const message = typeof e.message === 'string' && e.message !== '' ? e.message : undefined;

  // AbortSignal.timeout() rejects with TimeoutError; a plain abort with AbortError.
  if (e.name === 'TimeoutError') {
    return new ServiceError(ServiceErrorCode.TIMEOUT, message ?? 'Operation timed out', service, {
      cause: error,
    });
  }
  if (e.name === 'AbortError' || e.code === 'ABORT_ERR') {
    const reason = e.cause;
    if (isServiceError(reason)) return normalize(reason, service);
    return new ServiceError(ServiceErrorCode.CANCELLED, message ?? 'Operation was aborted', service, {
      cause: error,
    });
  }
  // grpc-js ServiceError: numeric status in `code` (usually with `details` and `metadata`, but a
  // hand-made `{ code: 14 }` is a gRPC status too; Node's own errors use string codes).
  if (typeof e.code === 'number' && Number.isInteger(e.code) && e.code >= 0 && e.code <= 16) {
    return ServiceError.fromGrpcStatus(
      e.code,
      typeof e.details === 'string' && e.details !== '' ? e.details : message,
      service,
      {
        retryAfterMs: grpcPushback(e.metadata),
        cause: error,
      },
    );
  }
  if (typeof e.code === 'string' && e.code in SOCKET_ERRORS) {
    const mapping = SOCKET_ERRORS[e.code]!;
    return new ServiceError(mapping.code, message ?? e.code, service, {
      retryable: mapping.retryable,
      cause: error,
      metadata: { errno: e.code },
    });
  }
  // fetch Response, axios/got errors (`response.status`), or `status`/`statusCode` on the error.
  const response = typeof e.response === 'object' && e.response !== null ? e.response : e;
  const status = typeof response.status === 'number' ? response.status : response.statusCode;
  if (typeof status === 'number' && status >= 400 && status <= 599) {
    return ServiceError.fromHttpStatus(
      status,
      message ?? (response.statusText || `HTTP ${status}`),
      service,
      {
        retryAfter: headerValue(response.headers, 'retry-after'),
        cause: error,
      },
    );
  }
  // An error that wraps a socket error as its cause (undici's "fetch failed").
  if (e.cause !== undefined && e.cause !== error && typeof e.cause === 'object' && e.cause !== null) {
    const inner = normalize(e.cause, service);
    if (inner.code !== ServiceErrorCode.INTERNAL_ERROR) {
      return new ServiceError(inner.code, message ?? inner.message, service, {
        retryable: inner.retryable,
        metadata: inner.metadata,
        cause: error,
      });
    }
  }
  return new ServiceError(ServiceErrorCode.INTERNAL_ERROR, message ?? describe(error), service, {
    retryable: false,
    cause: error,
  });
}
