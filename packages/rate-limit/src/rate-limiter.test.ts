import {
  CircuitBreaker,
  compose,
  RetryPolicy,
  type ServiceError,
  ServiceErrorCode,
} from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { RateLimitPolicy } from './rate-limit-policy';
import { RateLimiter } from './rate-limiter';
import type { RateLimiterOptions } from './rate-limiter-options';

const TIERS = [
  { limit: 10, windowMs: 1_000 },
  { limit: 100, windowMs: 10_000 },
  { limit: 1_000, windowMs: 60_000 },
];

/** A limiter on a clock moved by hand (its timers are never used by an in-process store). */
function limiter(options: Partial<RateLimiterOptions> = {}) {
  const time = { now: 1_000_000 };
  const clock = { now: () => time.now, setTimeout: () => 0, clearTimeout: () => {} };
  return { l: new RateLimiter({ tiers: TIERS, clock, ...options }), time };
}

async function badRequest(fn: () => unknown): Promise<ServiceError> {
  try {
    await fn();
  } catch (e) {
    expect((e as ServiceError).code).toBe(ServiceErrorCode.BAD_REQUEST);
    return e as ServiceError;
  }
  throw new Error('expected BAD_REQUEST');
}

describe('RateLimiter', () => {
  it('applies the three tiers of the gateway: 10 a second, 100 per 10 s, 1000 a minute', async () => {
    const { l, time } = limiter();
    let allowed = 0;
    // One request every 10 ms for two minutes: the 10/s tier alone would allow 1 200.
    for (let t = 0; t < 120_000; t += 10) {
      time.now = 1_000_000 + t;
      if ((await l.check('client')).allowed) allowed++;
    }
    // The 10/s tier binds (the others refill as fast or faster): its burst of 10 at 0–90 ms,
    // then one per 100 ms from 100 ms to 119 900 ms.
    expect(allowed).toBe(10 + 1_199);
  });

  it('uses a route override with its own state', async () => {
    const { l } = limiter({ routes: { payments: [{ limit: 2, windowMs: 60_000 }] } });
    expect((await l.check('u', { route: 'payments' })).allowed).toBe(true);
    expect((await l.check('u', { route: 'payments' })).allowed).toBe(true);
    const refused = await l.check('u', { route: 'payments' });
    expect(refused).toMatchObject({ allowed: false, retryAfterMs: 30_000 });
    expect(refused.policy.name).toBe('payments');
    expect((await l.check('u')).allowed).toBe(true);
  });

  it('rejects a refused acquire with RATE_LIMIT_EXCEEDED and retryAfterMs, and emits it', async () => {
    const { l } = limiter({ tiers: [{ limit: 1, windowMs: 2_000, name: 'burst' }], service: 'gateway' });
    const seen: string[] = [];
    l.on('rejected', ({ key, decision }) => seen.push(`${key}:${decision.retryAfterMs}`));
    await l.acquire('k');
    const e = await l.acquire('k').catch((x: ServiceError) => x);
    expect(e).toMatchObject({
      code: ServiceErrorCode.RATE_LIMIT_EXCEEDED,
      retryAfterMs: 2_000,
      httpStatus: 429,
      grpcStatus: 8,
      service: 'gateway',
      metadata: { key: 'k', policy: 'default', tier: 'burst', limit: 1, windowMs: 2_000 },
    });
    expect(seen).toEqual(['k:2000']);
  });

  it('refuses bad tiers and options with BAD_REQUEST naming the field', async () => {
    const cases: [unknown, RegExp][] = [
      [{ tiers: [] }, /tiers must list at least one tier/],
      [
        { tiers: [{ limit: 0, windowMs: 1_000 }] },
        /tiers\.0\.limit must be an integer between 1 and 1000000, got 0/,
      ],
      [
        { tiers: [{ limit: 10, windowMs: 1.5 }] },
        /tiers\.0\.windowMs must be an integer number of milliseconds/,
      ],
      [{ tiers: [{ limit: 10, windowMs: 1_000, name: 'a b' }] }, /tiers\.0\.name must be 1-64 letters/],
      [{ tiers: TIERS, routes: { payments: [] } }, /routes\.payments must list at least one tier/],
      [{ tiers: TIERS, routes: { default: TIERS } }, /routes key 'default' is not allowed/],
      [{ tiers: TIERS, onStoreFailure: 'maybe' }, /onStoreFailure/],
      [{ tiers: TIERS, store: {} }, /store must be a RateLimitStore/],
      [{ tiers: TIERS, windowMs: 5 }, /unknown option 'windowMs'/],
    ];
    for (const [options, message] of cases) {
      const e = await badRequest(() => new RateLimiter(options as RateLimiterOptions));
      expect(e.message).toMatch(message);
    }
    const routes = JSON.parse('{"__proto__": [{"limit": 1, "windowMs": 1000}]}');
    expect((await badRequest(() => new RateLimiter({ tiers: TIERS, routes }))).message).toMatch(/__proto__/);
  });

  it('refuses a bad key, route or cost per check, naming it', async () => {
    const { l } = limiter();
    expect((await badRequest(() => l.check(''))).metadata).toEqual({ field: 'key' });
    expect((await badRequest(() => l.check('k', { route: 'nope' }))).metadata).toMatchObject({
      field: 'route',
    });
    expect((await badRequest(() => l.check('k', { cost: 11 }))).message).toMatch(
      /cost must be an integer between 1 and 10/,
    );
    expect((await badRequest(() => l.check('k', { cost: 0.5 }))).metadata).toEqual({ field: 'cost' });
  });

  it('is a policy compose() accepts: a refusal skips the call and is not a breaker failure outside it', async () => {
    const { l } = limiter({ tiers: [{ limit: 2, windowMs: 60_000 }] });
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const policy = compose(new RateLimitPolicy(l, { key: 'svc' }), breaker);
    let calls = 0;
    const op = async () => ++calls;
    expect(await policy.execute(op)).toBe(1);
    expect(await policy.execute(op)).toBe(2);
    const e = await policy.execute(op).catch((x: ServiceError) => x);
    expect(e).toMatchObject({ code: ServiceErrorCode.RATE_LIMIT_EXCEEDED, retryAfterMs: 30_000 });
    expect(calls).toBe(2);
    expect(breaker.state).toBe('CLOSED');
  });

  it('inside a retry, waits the refusal out through retryAfterMs', async () => {
    const { l, time } = limiter({ tiers: [{ limit: 1, windowMs: 50 }] });
    const retry = new RetryPolicy({
      maxAttempts: 2,
      initialDelayMs: 1,
      clock: {
        now: () => time.now,
        setTimeout: (fn: () => void, ms: number) => {
          time.now += ms;
          return setTimeout(fn, 0);
        },
        clearTimeout: (h: unknown) => clearTimeout(h as NodeJS.Timeout),
      },
    });
    const policy = compose(retry, new RateLimitPolicy(l, { key: () => 'svc' }));
    await policy.execute(() => 'first');
    expect(await policy.execute(() => 'second')).toBe('second');
  });

  it('refuses bad RateLimitPolicy options naming the field', async () => {
    const { l } = limiter();
    expect((await badRequest(() => new RateLimitPolicy(l, { key: '' }))).message).toMatch(
      /RateLimitPolicy: key/,
    );
    expect((await badRequest(() => new RateLimitPolicy(l, { key: 'k', route: 'nope' }))).message).toMatch(
      /unknown route 'nope'/,
    );
  });
});
