import { once } from 'node:events';
import { type ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { waitFor } from '@clone/test-servers';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limiter';
import type { RateLimiterOptions } from '../src/rate-limiter-options';
import { RedisStore } from '../src/redis';
import type { RateLimitStore } from '../src/store';
import { useRedis } from './redis-server';

const redis = useRedis();
const TIERS = [{ limit: 2, windowMs: 60_000 }];

/** A limiter on the private Redis, on a client that fails at once while Redis is down. */
async function limiter(options: Omit<RateLimiterOptions, 'tiers'>) {
  const client = redis.client({
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => 50,
  });
  if (client.status !== 'ready') await once(client, 'ready');
  const errors: ServiceError[] = [];
  const l = new RateLimiter({
    tiers: TIERS,
    store: new RedisStore({ client, prefix: `fail${Math.random()}:` }),
    breaker: { resetTimeoutMs: 100 },
    ...options,
  });
  l.on('storeError', ({ error }) => errors.push(error));
  return { l, client, errors };
}

async function outage(during: () => Promise<void>): Promise<void> {
  await redis.server().kill();
  try {
    await during();
  } finally {
    await redis.server().start();
  }
}

describe('RateLimiter when the store is down', () => {
  it('fails open through the in-process insurance limiter, then goes back to Redis', async () => {
    const { l, errors } = await limiter({ onStoreFailure: 'open' });
    expect(await l.check('a')).toMatchObject({ allowed: true, source: 'store', remaining: 1 });
    await outage(async () => {
      // Insurance holds the same tiers in this process, from zero: two, then refused.
      expect(await l.check('a')).toMatchObject({ allowed: true, source: 'insurance' });
      expect(await l.check('a')).toMatchObject({ allowed: true, source: 'insurance' });
      expect(await l.check('a')).toMatchObject({ allowed: false, source: 'insurance' });
      const e = (await l.acquire('a').catch((x: ServiceError) => x)) as ServiceError;
      expect(e.code).toBe(ServiceErrorCode.RATE_LIMIT_EXCEEDED);
      // Three failures opened the breaker: the store is no longer even called.
      expect(errors.at(-1)?.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
    });
    await waitFor(async () => (await l.check('a')).source === 'store', 10_000, 'the store to be used again');
    // Back on Redis: the key's shared state from before the outage (1 left, now used).
    expect(await l.check('a')).toMatchObject({ allowed: false, source: 'store' });
  });

  it("fails open without insurance: everything passes, marked 'failed-open'", async () => {
    const { l } = await limiter({ onStoreFailure: 'open', insurance: false });
    await outage(async () => {
      for (let i = 0; i < 5; i++)
        expect(await l.check('b')).toMatchObject({ allowed: true, source: 'failed-open' });
    });
  });

  it('fails closed: refuses with SERVICE_UNAVAILABLE (503) and a retry delay, never a 500', async () => {
    const { l } = await limiter({ onStoreFailure: 'closed' });
    await outage(async () => {
      const d = await l.check('c');
      expect(d).toMatchObject({ allowed: false, source: 'failed-closed' });
      expect(d.retryAfterMs).toBeGreaterThan(0);
      const e = await l.acquire('c').catch((x: ServiceError) => x);
      expect(e).toMatchObject({ code: ServiceErrorCode.SERVICE_UNAVAILABLE, httpStatus: 503 });
      expect(e.retryAfterMs).toBeGreaterThan(0);
    });
    await waitFor(async () => (await l.check('c')).allowed, 10_000, 'requests to pass again');
  });

  it('counts a store call that hangs past storeTimeoutMs as a failure', async () => {
    const hanging: RateLimitStore = {
      remote: true,
      consume: () => new Promise(() => {}),
      close: async () => {},
    };
    const l = new RateLimiter({ tiers: TIERS, store: hanging, onStoreFailure: 'closed', storeTimeoutMs: 20 });
    const errors: ServiceError[] = [];
    l.on('storeError', ({ error }) => errors.push(error));
    expect(await l.check('d')).toMatchObject({ allowed: false, source: 'failed-closed' });
    expect(errors[0]?.code).toBe(ServiceErrorCode.TIMEOUT);
  });

  it('requires onStoreFailure with a remote store, naming the field', () => {
    const store = new RedisStore({ client: redis.client() });
    expect(() => new RateLimiter({ tiers: TIERS, store })).toThrow(
      expect.objectContaining({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field: 'onStoreFailure' } }),
    );
  });
});
