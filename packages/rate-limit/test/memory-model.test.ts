import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { RateLimiter } from '../src/rate-limiter';
import type { Tier } from '../src/tier';
import { ReferenceModel } from './reference-model';

const tier = fc.record({
  limit: fc.integer({ min: 1, max: 50 }),
  windowMs: fc.integer({ min: 1, max: 5_000 }),
});

describe('RateLimiter on the in-process store', () => {
  it('answers as the reference model does for any tiers, schedule and costs', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(tier, { minLength: 1, maxLength: 4 }),
        fc.array(
          fc.record({ advanceMs: fc.nat(700), key: fc.nat(3), cost: fc.integer({ min: 1, max: 3 }) }),
          {
            maxLength: 300,
          },
        ),
        async (tiers: Tier[], requests) => {
          let now = 1_760_000_000_000;
          const l = new RateLimiter({
            tiers,
            clock: { now: () => now, setTimeout: () => 0, clearTimeout: () => {} },
          });
          const model = new ReferenceModel(tiers);
          const maxCost = Math.min(...tiers.map((t) => t.limit));
          for (const { advanceMs, key, cost } of requests) {
            now += advanceMs;
            const c = Math.min(cost, maxCost);
            const d = await l.check(`k${key}`, { cost: c });
            const m = model.consume(`k${key}`, now, c);
            expect({ allowed: d.allowed, retryAfterMs: d.retryAfterMs }).toEqual({
              allowed: m.allowed,
              retryAfterMs: m.retryAfterMs,
            });
            if (d.allowed) expect(d.remaining).toBe(m.remaining);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
