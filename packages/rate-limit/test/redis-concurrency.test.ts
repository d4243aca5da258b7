import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limiter';
import { RedisStore } from '../src/redis';
import type { Tier } from '../src/tier';
import { useRedis } from './redis-server';
import { ReferenceModel } from './reference-model';

const redis = useRedis();

const CLIENTS = 32;
const TIERS: Tier[] = [
  { limit: 10, windowMs: 1_000 },
  { limit: 100, windowMs: 10_000 },
  { limit: 1_000, windowMs: 60_000 },
];
const PAYMENTS: Tier[] = [
  { limit: 3, windowMs: 1_000 },
  { limit: 10, windowMs: 60_000 },
];

/**
 * 32 limiters, each on its own Redis connection (32 gateway instances), share one Redis and one
 * hand-moved clock. Each step moves the clock, then every client sends its requests at once.
 * Within a step all requests of a key see the same time, so however Redis orders them the
 * number allowed, the multiset of `remaining` they report and the wait the refused ones are told
 * are fixed: they must equal the reference model's, step after step.
 */
describe('RedisStore under 32 concurrent clients', () => {
  it('holds every tier exactly, as the reference model does', async () => {
    let now = 1_760_000_000_000;
    const clock = { now: () => now, setTimeout, clearTimeout };
    let run = 0;
    const limiters = Array.from(
      { length: CLIENTS },
      () =>
        new RateLimiter({
          tiers: TIERS,
          routes: { payments: PAYMENTS },
          store: new RedisStore({ client: redis.client(), prefix: 'prop:' }),
          onStoreFailure: 'closed',
          storeTimeoutMs: 30_000,
          clock: clock as never,
        }),
    );
    const step = fc.record({
      advanceMs: fc.oneof(
        fc.constant(0),
        fc.integer({ min: 1, max: 400 }),
        fc.integer({ min: 1_000, max: 20_000 }),
      ),
      // Per client: which requests it sends in this step (key index, payments route or not).
      sends: fc.array(fc.array(fc.record({ key: fc.nat(2), payments: fc.boolean() }), { maxLength: 4 }), {
        minLength: CLIENTS,
        maxLength: CLIENTS,
      }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 12 }), async (steps) => {
        const prefix = `run${++run}-`;
        const models = { default: new ReferenceModel(TIERS), payments: new ReferenceModel(PAYMENTS) };
        for (const { advanceMs, sends } of steps) {
          now += advanceMs;
          const results = await Promise.all(
            sends.flatMap((requests, client) =>
              requests.map(async ({ key, payments }) => {
                const route = payments ? 'payments' : undefined;
                const d = await limiters[client]!.check(`${prefix}${key}`, { route });
                return { group: `${route ?? 'default'}|${key}`, d };
              }),
            ),
          );
          const groups = new Map<string, typeof results>();
          for (const r of results) groups.set(r.group, [...(groups.get(r.group) ?? []), r]);
          for (const [group, rs] of groups) {
            const [route, key] = group.split('|') as ['default' | 'payments', string];
            const expected = rs.map(() => models[route].consume(`${prefix}${key}`, now));
            const summary = (ds: { allowed: boolean; remaining: number; retryAfterMs: number }[]) => ({
              allowed: ds.filter((d) => d.allowed).length,
              remaining: ds
                .filter((d) => d.allowed)
                .map((d) => d.remaining)
                .sort((a, b) => a - b),
              waits: [...new Set(ds.filter((d) => !d.allowed).map((d) => d.retryAfterMs))],
            });
            expect(summary(rs.map((r) => r.d))).toEqual(summary(expected));
            for (const r of rs) expect(r.d.source).toBe('store');
          }
        }
      }),
      { numRuns: 40, endOnFailure: true },
    );
    await Promise.all(limiters.map((l) => l.close()));
  }, 120_000);
});
