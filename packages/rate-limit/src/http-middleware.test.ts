import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { type RateLimitMiddlewareOptions, rateLimitMiddleware } from './http-middleware';
import { RateLimiter } from './rate-limiter';
import type { RateLimitStore } from './store';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

/** A node:http server whose handler is the middleware in front of a 200 "ok". */
async function serve(limiter: RateLimiter, options?: RateLimitMiddlewareOptions) {
  const limit = rateLimitMiddleware(limiter, options);
  const errors: unknown[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    void limit(req, res, (error) => {
      if (error !== undefined) {
        errors.push(error);
        res.statusCode = 599;
        res.end();
        return;
      }
      res.end('ok');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  closers.push(() => new Promise((r) => server.close(() => r())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    get: (path = '/', headers: Record<string, string> = {}) => fetch(`${url}${path}`, { headers }),
    errors,
  };
}

describe('rateLimitMiddleware (real node:http server)', () => {
  const tiers = [
    { limit: 2, windowMs: 1_000, name: 'second' },
    { limit: 5, windowMs: 60_000, name: 'minute' },
  ];

  it('passes with RateLimit headers, then answers 429 with Retry-After and the error body', async () => {
    const { get } = await serve(new RateLimiter({ tiers }));
    const first = await get();
    expect(first.status).toBe(200);
    expect(first.headers.get('ratelimit-policy')).toBe('"second";q=2;w=1, "minute";q=5;w=60');
    expect(first.headers.get('ratelimit')).toBe('"second";r=1;t=1');
    expect((await get()).status).toBe(200);
    const refused = await get('/', { 'x-request-id': 'req_42' });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('ratelimit')).toBe('"second";r=0;t=1');
    expect(refused.headers.get('ratelimit-policy')).toBe('"second";q=2;w=1, "minute";q=5;w=60');
    expect(refused.headers.get('x-request-id')).toBe('req_42');
    expect(await refused.json()).toMatchObject({
      success: false,
      code: 'RATE_LIMIT_EXCEEDED',
      statusCode: 429,
      requestId: 'req_42',
    });
  });

  it('keys by the function given, and applies a route override', async () => {
    const limiter = new RateLimiter({ tiers, routes: { payments: [{ limit: 1, windowMs: 60_000 }] } });
    const { get } = await serve(limiter, {
      key: (req) => req.headers['x-client-id'] as string | undefined,
      route: (req) => (req.url?.startsWith('/api/v1/payments/') ? 'payments' : undefined),
    });
    const as = (id: string) => ({ 'x-client-id': id });
    expect((await get('/api/v1/payments/charge', as('a'))).status).toBe(200);
    const refused = await get('/api/v1/payments/charge', as('a'));
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('60');
    expect((await get('/api/v1/payments/charge', as('b'))).status).toBe(200);
    expect((await get('/api/v1/users/me', as('a'))).status).toBe(200);
    // No key: not limited.
    for (let i = 0; i < 4; i++) expect((await get('/api/v1/users/me')).status).toBe(200);
  });

  it('answers 503 with Retry-After, never a 500, when the store is down and it fails closed', async () => {
    const down: RateLimitStore = {
      remote: true,
      consume: () => Promise.reject(new Error('ECONNREFUSED')),
      close: async () => {},
    };
    const { get } = await serve(new RateLimiter({ tiers, store: down, onStoreFailure: 'closed' }));
    const res = await get();
    expect(res.status).toBe(503);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(res.headers.get('ratelimit')).toBeNull();
    expect(await res.json()).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });

  it('passes through with no headers when failing open without insurance', async () => {
    const down: RateLimitStore = {
      remote: true,
      consume: () => Promise.reject(new Error('ECONNREFUSED')),
      close: async () => {},
    };
    const { get } = await serve(
      new RateLimiter({ tiers, store: down, onStoreFailure: 'open', insurance: false }),
    );
    for (let i = 0; i < 5; i++) expect((await get()).status).toBe(200);
  });

  it('hands a throwing key function to next(error)', async () => {
    const { get, errors } = await serve(new RateLimiter({ tiers }), {
      key: () => {
        throw new Error('bad header');
      },
    });
    expect((await get()).status).toBe(599);
    expect(errors).toEqual([
      expect.objectContaining({ code: 'INTERNAL_ERROR', message: 'rateLimitMiddleware: key threw' }),
    ]);
  });

  it('refuses bad options naming the field', () => {
    expect(() => rateLimitMiddleware(new RateLimiter({ tiers }), { key: 'ip' as never })).toThrow(
      /rateLimitMiddleware: key must be a function/,
    );
  });
});
