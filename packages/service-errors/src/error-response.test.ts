import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { toErrorResponse, writeErrorResponse } from './error-response';
import { ServiceError } from './service-error';

describe('toErrorResponse', () => {
  it('carries the message, code, status, time and request id', () => {
    const error = new ServiceError(ServiceErrorCode.FORBIDDEN, 'missing internal:read', 'auth', {
      metadata: { reason: 'permission' },
    });
    expect(toErrorResponse(error, { requestId: 'req-1', now: 0 })).toEqual({
      success: false,
      error: 'missing internal:read',
      code: 'FORBIDDEN',
      statusCode: 403,
      timestamp: '1970-01-01T00:00:00.000Z',
      requestId: 'req-1',
    });
  });

  it('shows metadata only when asked to', () => {
    const error = new ServiceError(ServiceErrorCode.BAD_REQUEST, 'bad', undefined, {
      metadata: { field: 'name' },
    });
    expect(toErrorResponse(error).details).toBeUndefined();
    expect(toErrorResponse(error, { exposeDetails: true }).details).toEqual({ field: 'name' });
  });

  it('turns a thrown non-ServiceError into a 500', () => {
    const body = toErrorResponse(new TypeError('x is undefined'));
    expect(body).toMatchObject({ success: false, code: 'INTERNAL_ERROR', statusCode: 500 });
  });
});

describe('writeErrorResponse', () => {
  it('answers over real HTTP with the status, JSON and Retry-After in whole seconds', async () => {
    const server = createServer((_req, res) => {
      writeErrorResponse(
        res,
        new ServiceError(ServiceErrorCode.RATE_LIMIT_EXCEEDED, 'slow down', undefined, {
          retryAfterMs: 1_200,
        }),
        { requestId: 'r-9' },
      );
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
        (resolve, reject) => {
          request({ host: '127.0.0.1', port, path: '/' }, (res) => {
            let body = '';
            res.setEncoding('utf8');
            res.on('data', (chunk: string) => {
              body += chunk;
            });
            res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
          })
            .on('error', reject)
            .end();
        },
      );
      expect(answer.status).toBe(429);
      expect(answer.headers['retry-after']).toBe('2');
      expect(answer.headers['x-request-id']).toBe('r-9');
      expect(answer.headers['content-type']).toMatch(/application\/json/);
      expect(JSON.parse(answer.body)).toMatchObject({
        code: 'RATE_LIMIT_EXCEEDED',
        statusCode: 429,
        requestId: 'r-9',
      });
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('leaves a committed response alone', () => {
    const calls: string[] = [];
    const res = {
      statusCode: 200,
      headersSent: true,
      setHeader: () => calls.push('setHeader'),
      end: () => calls.push('end'),
    };
    writeErrorResponse(res, new Error('late'));
    expect(calls).toEqual([]);
    expect(res.statusCode).toBe(200);
  });
});
