import { RateLimiter } from '@clone/rate-limit';
import { createUserTokenVerifier } from '@clone/service-auth';
import { afterEach, describe, expect, it } from 'vitest';
import { call, registryOf, SECRET, startGateway, startUpstream, stopUpstreams, userToken } from './support';

afterEach(stopUpstreams);

/** The design's tiers, with a clock that stands still so the windows never refill mid-test. */
function seedLimiter() {
  let now = 1_000_000;
  const clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => undefined };
  const limiter = new RateLimiter({
    tiers: [
      { limit: 10, windowMs: 1_000, name: 'second' },
      { limit: 100, windowMs: 10_000, name: 'ten-seconds' },
      { limit: 1_000, windowMs: 60_000, name: 'minute' },
    ],
    routes: { payments: [{ limit: 10, windowMs: 60_000, name: 'payments' }] },
    clock,
  });
  return { limiter, advance: (ms: number) => (now += ms) };
}

describe('rate limits', () => {
  it('answers 429 with RateLimit headers and Retry-After once a tier is spent, per user', async () => {
    const users = await startUpstream('users-1');
    const { limiter, advance } = seedLimiter();
    const g = await startGateway({
      routes: [{ path: '/api/v1/users/*', service: 'user-service' }],
      discovery: registryOf({ 'user-service': [users] }),
      auth: createUserTokenVerifier({ secret: SECRET }),
      rateLimits: limiter,
    });
    try {
      const alice = { authorization: `Bearer ${userToken({ sub: 'alice' })}` };
      const bob = { authorization: `Bearer ${userToken({ sub: 'bob' })}` };
      const first = await call(`${g.url}/api/v1/users/me`, { headers: alice });
      expect(first.status).toBe(200);
      expect(first.headers['ratelimit-policy']).toBe(
        '"second";q=10;w=1, "ten-seconds";q=100;w=10, "minute";q=1000;w=60',
      );
      expect(first.headers.ratelimit).toBe('"second";r=9;t=1');
      for (let i = 0; i < 9; i++)
        expect((await call(`${g.url}/api/v1/users/me`, { headers: alice })).status).toBe(200);
      const refused = await call(`${g.url}/api/v1/users/me`, { headers: alice });
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.headers.ratelimit).toMatch(/^"second";r=0;t=1$/);
      expect(refused.json).toMatchObject({ success: false, code: 'RATE_LIMIT_EXCEEDED', statusCode: 429 });
      expect(users.hits).toBe(10);
      expect((await call(`${g.url}/api/v1/users/me`, { headers: bob })).status).toBe(200);
      advance(1_000);
      expect((await call(`${g.url}/api/v1/users/me`, { headers: alice })).status).toBe(200);
    } finally {
      await g.close();
    }
  });

  it("checks a route against its limiter route's tiers, keyed by client address without a user", async () => {
    const payments = await startUpstream('payments-1');
    const { limiter } = seedLimiter();
    const g = await startGateway({
      routes: [
        { path: '/api/v1/payments/*', service: 'payment-service', auth: false, rateLimit: 'payments' },
      ],
      discovery: registryOf({ 'payment-service': [payments] }),
      rateLimits: limiter,
    });
    try {
      for (let i = 0; i < 10; i++)
        expect((await call(`${g.url}/api/v1/payments/charge`, { method: 'POST', body: '{}' })).status).toBe(
          200,
        );
      const refused = await call(`${g.url}/api/v1/payments/charge`, { method: 'POST', body: '{}' });
      expect(refused.status).toBe(429);
      expect(refused.headers['ratelimit-policy']).toBe('"payments";q=10;w=60');
      expect(Number(refused.headers['retry-after'])).toBe(6);
      expect(payments.hits).toBe(10);
    } finally {
      await g.close();
    }
  });
});
