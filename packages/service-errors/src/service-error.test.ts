import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { GrpcStatus } from './grpc-status';
import { isServiceError, ServiceError, toGrpcStatus } from './service-error';

describe('ServiceError', () => {
  it('keeps code, service, cause and defaults retryable by code', () => {
    const cause = new Error('socket hang up');
    const e = new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'asr', { cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('ServiceError');
    expect(e.cause).toBe(cause);
    expect(e.retryable).toBe(true);
    expect(e.grpcStatus).toBe(GrpcStatus.UNAVAILABLE);
    expect(new ServiceError(ServiceErrorCode.BAD_REQUEST, 'x').retryable).toBe(false);
    expect(new ServiceError(ServiceErrorCode.ASR_FAILED, 'x', 'asr', { retryable: true }).retryable).toBe(
      true,
    );
  });

  it('serialises without the stack', () => {
    const e = new ServiceError(ServiceErrorCode.ASR_FAILED, 'Failed to transcribe audio', 'asr-service', {
      retryable: true,
      metadata: { sessionId: 'session-123' },
      cause: Object.assign(new Error('boom'), { code: 'ECONNRESET' }),
    });
    const json = JSON.parse(JSON.stringify(e));
    expect(json).toMatchObject({
      name: 'ServiceError',
      code: 'ASR_FAILED',
      service: 'asr-service',
      retryable: true,
      metadata: { sessionId: 'session-123' },
      cause: { name: 'Error', message: 'boom', code: 'ECONNRESET' },
    });
    expect(json.stack).toBeUndefined();
    expect(JSON.stringify(json)).not.toContain('at ');
  });

  it('is recognised across copies by its brand, and subclasses keep prototype semantics', () => {
    // A structurally foreign object carrying the shared brand, as another copy of the package makes.
    const foreign = Object.create(Error.prototype);
    Object.defineProperty(foreign, Symbol.for('@clone/service-errors.ServiceError'), { value: true });
    foreign.code = ServiceErrorCode.TIMEOUT;
    expect(foreign instanceof ServiceError).toBe(true);
    expect(isServiceError(foreign, ServiceErrorCode.TIMEOUT)).toBe(true);
    expect(isServiceError(foreign, ServiceErrorCode.NOT_FOUND)).toBe(false);
    expect(isServiceError(new Error('x'))).toBe(false);
    class SubError extends ServiceError {}
    expect(new SubError(ServiceErrorCode.TIMEOUT, 't') instanceof SubError).toBe(true);
    expect(new ServiceError(ServiceErrorCode.TIMEOUT, 't') instanceof SubError).toBe(false);
  });

  it('maps every gRPC status', () => {
    const expected: Record<number, [ServiceErrorCode, boolean]> = {
      0: [ServiceErrorCode.INTERNAL_ERROR, false],
      1: [ServiceErrorCode.CANCELLED, false],
      2: [ServiceErrorCode.INTERNAL_ERROR, false],
      3: [ServiceErrorCode.BAD_REQUEST, false],
      4: [ServiceErrorCode.TIMEOUT, true],
      5: [ServiceErrorCode.NOT_FOUND, false],
      6: [ServiceErrorCode.CONFLICT, false],
      7: [ServiceErrorCode.FORBIDDEN, false],
      8: [ServiceErrorCode.RATE_LIMIT_EXCEEDED, true],
      9: [ServiceErrorCode.BAD_REQUEST, false],
      10: [ServiceErrorCode.CONFLICT, true],
      11: [ServiceErrorCode.BAD_REQUEST, false],
      12: [ServiceErrorCode.NOT_IMPLEMENTED, false],
      13: [ServiceErrorCode.INTERNAL_ERROR, false],
      14: [ServiceErrorCode.SERVICE_UNAVAILABLE, true],
      15: [ServiceErrorCode.INTERNAL_ERROR, false],
      16: [ServiceErrorCode.UNAUTHORIZED, false],
    };
    for (const [status, [code, retryable]] of Object.entries(expected)) {
      const grpcError = Object.assign(new Error(`${status} X: detail`), {
        code: Number(status),
        details: 'detail',
        metadata: { get: () => [] },
      });
      const e = ServiceError.from(grpcError, 'svc');
      expect([e.code, e.retryable, e.grpcStatus, e.service, e.message]).toEqual([
        code,
        retryable,
        Number(status),
        'svc',
        'detail',
      ]);
      expect(e.cause).toBe(grpcError);
    }
  });

  it('maps a bare gRPC status error without details or metadata', () => {
    expect(ServiceError.from(Object.assign(new Error('x'), { code: 14 }))).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      retryable: true,
    });
    expect(ServiceError.from({ code: 4 })).toMatchObject({ code: 'TIMEOUT', retryable: true });
    expect(ServiceError.from(new Response(null, { status: 503 })).message).toBe('HTTP 503');
  });

  it('reads gRPC pushback metadata', () => {
    const grpcError = Object.assign(new Error('14 UNAVAILABLE'), {
      code: 14,
      details: 'busy',
      metadata: { get: (k: string) => (k === 'grpc-retry-pushback-ms' ? ['250'] : []) },
    });
    expect(ServiceError.from(grpcError).retryAfterMs).toBe(250);
  });

  it('maps socket errors, aborts, HTTP errors, strings and non-errors', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' });
    expect(ServiceError.from(refused)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(ServiceError.from(reset)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
    const timedOut = Object.assign(new Error('connect ETIMEDOUT'), { code: 'ETIMEDOUT' });
    expect(ServiceError.from(timedOut)).toMatchObject({ code: 'TIMEOUT', retryable: true });

    const controller = new AbortController();
    controller.abort();
    expect(ServiceError.from(controller.signal.reason)).toMatchObject({
      code: 'CANCELLED',
      retryable: false,
    });
    expect(ServiceError.from(new DOMException('t', 'TimeoutError'))).toMatchObject({
      code: 'TIMEOUT',
      retryable: true,
    });

    const http = { message: 'Too Many Requests', response: { status: 429, headers: { 'retry-after': '2' } } };
    expect(ServiceError.from(http)).toMatchObject({
      code: 'RATE_LIMIT_EXCEEDED',
      retryable: true,
      retryAfterMs: 2000,
    });
    expect(ServiceError.from({ status: 503 })).toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      httpStatus: 503,
    });
    expect(ServiceError.from({ statusCode: 404, message: 'nope' })).toMatchObject({
      code: 'NOT_FOUND',
      retryable: false,
    });

    expect(ServiceError.from('plain string')).toMatchObject({
      code: 'INTERNAL_ERROR',
      message: 'plain string',
    });
    expect(ServiceError.from(42).message).toContain('42');
    expect(ServiceError.from(undefined).code).toBe('INTERNAL_ERROR');
    const fetchFailed = new TypeError('fetch failed', { cause: refused });
    expect(ServiceError.from(fetchFailed)).toMatchObject({ code: 'SERVICE_UNAVAILABLE', retryable: true });
  });

  it('returns a ServiceError as is and fills in a missing service', () => {
    const e = new ServiceError(ServiceErrorCode.TIMEOUT, 't');
    expect(ServiceError.from(e)).toBe(e);
    const named = ServiceError.from(e, 'llm');
    expect(named.service).toBe('llm');
    expect(named.code).toBe('TIMEOUT');
  });

  it('answers gRPC status for servers', () => {
    expect(toGrpcStatus(new ServiceError(ServiceErrorCode.FORBIDDEN, 'no'))).toEqual({
      code: 7,
      details: 'no',
    });
    expect(toGrpcStatus(new Error('oops'))).toEqual({ code: 13, details: 'oops' });
    expect(toGrpcStatus(new ServiceError(ServiceErrorCode.RATE_LIMIT_EXCEEDED, 'slow down')).code).toBe(8);
  });

  it('is the same class for ESM and CJS builds loaded together', async () => {
    const require = createRequire(import.meta.url);
    let cjs: typeof import('./index');
    let esm: typeof import('./index');
    try {
      cjs = require('../dist/index.cjs');
      esm = await import('../dist/index.js' as string);
    } catch {
      return; // the build is checked by the packaging test in CI; sources-only runs skip this
    }
    const fromCjs = new cjs.ServiceError(cjs.ServiceErrorCode.TIMEOUT, 't');
    expect(fromCjs instanceof esm.ServiceError).toBe(true);
    expect(esm.isServiceError(fromCjs)).toBe(true);
    expect(new esm.ServiceError(esm.ServiceErrorCode.TIMEOUT, 't') instanceof cjs.ServiceError).toBe(true);
  });
});
