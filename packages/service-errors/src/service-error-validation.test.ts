/**
 * `new ServiceError` checks its arguments (a wrong one throws BAD_REQUEST naming it);
 * `ServiceError.from` never throws, whatever was thrown.
 */
import { describe, expect, it } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { parseRetryAfter } from './http-status';
import { isServiceError, ServiceError } from './service-error';

function badArgument(make: () => unknown): ServiceError {
  try {
    make();
  } catch (e) {
    if (isServiceError(e, ServiceErrorCode.BAD_REQUEST)) return e;
    throw e;
  }
  throw new Error('expected BAD_REQUEST');
}

const code = ServiceErrorCode.SERVICE_UNAVAILABLE;

describe('new ServiceError', () => {
  it.each([
    ['code', () => new ServiceError('BOGUS' as never, 'm'), 'code must be a ServiceErrorCode, got "BOGUS"'],
    [
      'code',
      () => new ServiceError(undefined as never, 'm'),
      'code must be a ServiceErrorCode, got undefined',
    ],
    ['message', () => new ServiceError(code, 42 as never), 'message must be a string, got 42'],
    ['service', () => new ServiceError(code, 'm', 7 as never), 'service must be a string, got 7'],
    ['options', () => new ServiceError(code, 'm', undefined, null as never), 'options must be an object'],
    [
      'retryable',
      () => new ServiceError(code, 'm', undefined, { retryable: 'yes' as never }),
      'retryable must be a boolean',
    ],
    [
      'metadata',
      () => new ServiceError(code, 'm', undefined, { metadata: 'x' as never }),
      'metadata must be an object',
    ],
    [
      'retryAfterMs',
      () => new ServiceError(code, 'm', undefined, { retryAfterMs: -1 }),
      'retryAfterMs must be an integer number of milliseconds between 0 and 2147483647, got -1',
    ],
    ['retryAfterMs', () => new ServiceError(code, 'm', undefined, { retryAfterMs: 1.5 }), 'got 1.5'],
    [
      'retryAfterMs',
      () => new ServiceError(code, 'm', undefined, { retryAfterMs: 2 ** 31 }),
      'got 2147483648',
    ],
    [
      'retryAfterMs',
      () => new ServiceError(code, 'm', undefined, { retryAfterMs: '100' as never }),
      'got "100"',
    ],
    [
      'retryAfterMs',
      () => new ServiceError(code, 'm', undefined, { retryAfterMs: Number.POSITIVE_INFINITY }),
      'got Infinity',
    ],
    [
      'grpcStatus',
      () => new ServiceError(code, 'm', undefined, { grpcStatus: 17 }),
      'grpcStatus must be a gRPC status, an integer between 0 and 16, got 17',
    ],
    ['grpcStatus', () => new ServiceError(code, 'm', undefined, { grpcStatus: '14' as never }), 'got "14"'],
    [
      'httpStatus',
      () => new ServiceError(code, 'm', undefined, { httpStatus: 99 }),
      'httpStatus must be an HTTP status, an integer between 100 and 599, got 99',
    ],
    ['httpStatus', () => new ServiceError(code, 'm', undefined, { httpStatus: 600 }), 'got 600'],
    ['httpStatus', () => new ServiceError(code, 'm', undefined, { httpStatus: 503.5 }), 'got 503.5'],
    [
      'attempts',
      () => new ServiceError(code, 'm', undefined, { attempts: 0 }),
      'attempts must be a positive integer, got 0',
    ],
    ['attempts', () => new ServiceError(code, 'm', undefined, { attempts: -2 }), 'got -2'],
    ['attempts', () => new ServiceError(code, 'm', undefined, { attempts: 1.5 }), 'got 1.5'],
    ['attempts', () => new ServiceError(code, 'm', undefined, { attempts: '2' as never }), 'got "2"'],
  ])('rejects a bad %s', (field, make, text) => {
    const error = badArgument(make);
    expect(error.message).toContain(`ServiceError: ${field} `);
    expect(error.message).toContain(text);
    expect(error.metadata).toEqual({ field });
    expect(error.retryable).toBe(false);
  });

  it('accepts the edges of every range', () => {
    const e = new ServiceError(code, 'm', 'svc', {
      retryAfterMs: 2 ** 31 - 1,
      grpcStatus: 0,
      httpStatus: 599,
      attempts: 1,
      retryable: false,
      metadata: {},
    });
    expect(e).toMatchObject({ retryAfterMs: 2 ** 31 - 1, grpcStatus: 0, httpStatus: 599, attempts: 1 });
    expect(
      new ServiceError(code, '', undefined, { retryAfterMs: 0, grpcStatus: 16, httpStatus: 100 }),
    ).toBeInstanceOf(ServiceError);
  });

  it('keeps fromGrpcStatus and fromHttpStatus to valid statuses', () => {
    expect(badArgument(() => ServiceError.fromGrpcStatus(99)).metadata).toEqual({ field: 'grpcStatus' });
    expect(badArgument(() => ServiceError.fromHttpStatus(700)).metadata).toEqual({ field: 'httpStatus' });
  });
});

describe('ServiceError.from never throws', () => {
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  it.each([
    [
      'an object whose getters throw',
      Object.defineProperties(
        {},
        {
          message: {
            get: () => {
              throw new Error('getter');
            },
            enumerable: true,
          },
          code: {
            get: () => {
              throw new Error('getter');
            },
            enumerable: true,
          },
        },
      ),
    ],
    [
      'an Error whose getters throw',
      Object.defineProperty(new Error('x'), 'code', {
        get: () => {
          throw new Error('getter');
        },
      }),
    ],
    [
      'a Proxy whose traps throw',
      new Proxy(
        {},
        {
          get: () => {
            throw new Error('trap');
          },
          getPrototypeOf: () => {
            throw new Error('trap');
          },
        },
      ),
    ],
    ['a revoked Proxy', revoked.proxy],
    ['an object without a prototype', Object.create(null)],
    [
      'a cyclic object',
      (() => {
        const o: Record<string, unknown> = {};
        o.self = o;
        return o;
      })(),
    ],
    ['a symbol', Symbol('s')],
    ['a bigint', 10n],
    ['a function', () => 1],
    ['null', null],
    ['undefined', undefined],
    [
      'a response whose headers throw',
      {
        status: 503,
        get headers() {
          throw new Error('headers');
        },
      },
    ],
    [
      'a gRPC error whose metadata throws',
      {
        code: 14,
        metadata: {
          get: () => {
            throw new Error('md');
          },
        },
      },
    ],
    [
      'a foreign ServiceError with a bad code',
      Object.defineProperty(
        { code: 'BOGUS', message: 'm' },
        Symbol.for('@clone/service-errors.ServiceError'),
        { value: true },
      ),
    ],
  ])('on %s', (_name, value) => {
    const error = ServiceError.from(value, 'svc');
    expect(isServiceError(error)).toBe(true);
    expect(typeof error.message).toBe('string');
    expect(error.service).toBe('svc');
    expect(() => JSON.stringify(error)).not.toThrow();
    expect(() => ServiceError.from(value, 42 as never)).not.toThrow();
  });
});

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-12-01T00:00:00Z');
  it('gives whole milliseconds within the timer range, rounding up', () => {
    expect(parseRetryAfter('2', now)).toBe(2000);
    expect(parseRetryAfter('0.0001', now)).toBe(1);
    expect(parseRetryAfter(1.2345, now)).toBe(1235);
    expect(parseRetryAfter('2147484', now)).toBe(2 ** 31 - 1);
    expect(parseRetryAfter('9'.repeat(400), now)).toBe(2 ** 31 - 1);
    expect(parseRetryAfter('Fri, 31 Dec 9999 23:59:59 GMT', now)).toBe(2 ** 31 - 1);
    expect(parseRetryAfter('Tue, 01 Dec 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('Mon, 30 Nov 2026 00:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter({} as never, now)).toBeUndefined();
  });

  it('caps a far pushback read from a gRPC error or an HTTP response', () => {
    const grpc = { code: 14, metadata: { get: () => ['99999999999'] } };
    expect(ServiceError.from(grpc).retryAfterMs).toBe(2 ** 31 - 1);
    const http = { status: 429, headers: { 'retry-after': 'Fri, 31 Dec 9999 23:59:59 GMT' } };
    expect(ServiceError.from(http).retryAfterMs).toBe(2 ** 31 - 1);
  });
});
