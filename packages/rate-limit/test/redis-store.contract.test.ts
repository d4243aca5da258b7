import { describe, expect, it } from 'vitest';
import { consumeScript, RedisStore } from '../src/redis';
import { TierSet } from '../src/tier';
import { useRedis } from './redis-server';
import { describeStoreContract } from './store-contract';

const redis = useRedis();

/** The script's state: little-endian doubles, a TAT per tier (whole ms, then the rest when the interval has one). */
function doubles(state: Buffer | null): number[] {
  const values: number[] = [];
  for (let i = 0; state !== null && i < state.length; i += 8) values.push(state.readDoubleLE(i));
  return values;
}

describeStoreContract('RedisStore', () => new RedisStore({ client: redis.client() }));

describe('RedisStore', () => {
  const policy = new TierSet('default', [
    { limit: 10, windowMs: 1_000 },
    { limit: 100, windowMs: 10_000 },
  ]);

  it('runs its script by SHA, and sends it again after SCRIPT FLUSH (NOSCRIPT)', async () => {
    const client = redis.client();
    const store = new RedisStore({ client, prefix: 'flush:' });
    const { sha } = consumeScript(policy);
    await client.script('FLUSH');
    expect(await client.script('EXISTS', sha)).toEqual([0]);
    expect((await store.consume('a', policy, Date.now(), 1)).allowed).toBe(true);
    expect(await client.script('EXISTS', sha)).toEqual([1]);
    expect((await store.consume('a', policy, Date.now(), 1)).remaining).toBe(8);
  });

  it('keeps one string per key and tiers, expiring when every tier has refilled; a refusal writes nothing', async () => {
    const client = redis.client();
    const store = new RedisStore({ client, prefix: 'ttl:' });
    const key = 'ttl:default:10/1000,100/10000:k';
    const now = Date.now();
    await store.consume('k', policy, now, 3);
    // Both tiers hold 3 × 100 ms of TAT; the key outlives it by the longest window (10 s).
    const ttl = await client.pttl(key);
    expect(ttl).toBeGreaterThan(10_000);
    expect(ttl).toBeLessThanOrEqual(10_300);
    const state = await client.getBuffer(key);
    // Both intervals are whole ms (100 ms): no rest is stored.
    expect(doubles(state)).toEqual([now + 300, now + 300]);
    expect((await store.consume('k', policy, now, 10)).allowed).toBe(false);
    expect(await client.getBuffer(key)).toEqual(state);
    // Other numbers for the same policy name start afresh.
    const tighter = new TierSet('default', [{ limit: 3, windowMs: 1_000 }]);
    expect(await store.consume('k', tighter, now, 3)).toMatchObject({ allowed: true, remaining: 0 });
    // 1000/3 ms: whole ms and the rest in thirds (3 × 333⅓ ms = 1000 ms, rest 0).
    expect(doubles(await client.getBuffer('ttl:default:3/1000:k'))).toEqual([now + 1_000, 0]);
    expect(await store.consume('k', tighter, now + 1_000, 1)).toMatchObject({ allowed: true, remaining: 2 });
    expect(doubles(await client.getBuffer('ttl:default:3/1000:k'))).toEqual([now + 1_333, 1]);
  });

  it('fails with the client error when Redis cannot be reached', async () => {
    const client = redis.client({ lazyConnect: true, enableOfflineQueue: false });
    const store = new RedisStore({ client });
    await expect(store.consume('k', policy, Date.now(), 1)).rejects.toThrow();
  });

  it('refuses a client that is not one', () => {
    expect(() => new RedisStore({ client: {} as never })).toThrow(/client must be an ioredis client/);
  });
});
