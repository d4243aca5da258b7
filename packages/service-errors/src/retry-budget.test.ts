import { describe, expect, it } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { RetryBudget } from './retry-budget';
import { type GiveUpReason, RetryPolicy } from './retry-policy';
import { ServiceError } from './service-error';
import { manualClock, rejection } from './test-helpers';

const unavailable = () =>
  new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'access-service', { retryable: true });

describe('RetryBudget', () => {
  it('grants the floor with no traffic, then ratio × requests more', () => {
    const { clock } = manualClock(1_000_000);
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 1, windowMs: 2_000, clock });
    // Floor: 1/s over 2 s.
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    for (let i = 0; i < 10; i++) budget.recordRequest();
    expect(budget.getStats()).toEqual({ requests: 10, retries: 2, available: 2 });
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  it('forgets requests and retries once they leave the window', () => {
    const { clock, advance } = manualClock(0);
    const budget = new RetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1_000, clock });
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    advance(500);
    for (let i = 0; i < 2; i++) budget.recordRequest();
    expect(budget.getStats()).toEqual({ requests: 6, retries: 1, available: 2 });
    advance(500); // the first four requests and the retry expire
    expect(budget.getStats()).toEqual({ requests: 2, retries: 0, available: 1 });
    advance(10_000);
    expect(budget.getStats()).toEqual({ requests: 0, retries: 0, available: 0 });
  });

  it('refuses bad options by name', () => {
    expect(() => new RetryBudget({ ratio: -1 })).toThrow(/ratio/);
    expect(() => new RetryBudget({ windowMs: 1.5 })).toThrow(/windowMs/);
    expect(() => new RetryBudget({ extra: 1 } as never)).toThrow(/extra/);
  });
});

describe('RetryPolicy with a budget', () => {
  it('stops retrying when the shared budget is spent, with reason budget', async () => {
    const { clock } = manualClock(0);
    const budget = new RetryBudget({ ratio: 0.1, minRetriesPerSecond: 0, windowMs: 10_000, clock });
    const a = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, budget, clock });
    const b = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, budget, clock });
    const reasons: GiveUpReason[] = [];
    a.on('giveUp', (e) => reasons.push(e.reason));
    b.on('giveUp', (e) => reasons.push(e.reason));
    let attempts = 0;
    const failing = async () => {
      attempts++;
      throw unavailable();
    };
    // 20 calls through two clients earn 2 retries between them.
    for (let i = 0; i < 10; i++) {
      await rejection(a.execute(failing));
      await rejection(b.execute(failing));
    }
    expect(attempts).toBe(22);
    expect(reasons.filter((r) => r === 'budget')).toHaveLength(20);
    const last = await rejection(a.execute(failing));
    expect(last.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(last.attempts).toBe(1);
  });

  it('spends nothing on errors it would not retry', async () => {
    const budget = new RetryBudget({ ratio: 0, minRetriesPerSecond: 0.1, windowMs: 10_000 });
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, budget });
    const notFound = new ServiceError(ServiceErrorCode.NOT_FOUND, 'no', undefined, { retryable: false });
    await rejection(
      policy.execute(async () => {
        throw notFound;
      }),
    );
    expect(budget.getStats().retries).toBe(0);
    let calls = 0;
    const value = await policy.execute(async () => {
      if (++calls === 1) throw unavailable();
      return 'ok';
    });
    expect(value).toBe('ok');
    expect(budget.getStats()).toMatchObject({ requests: 2, retries: 1 });
  });

  it('refuses a budget option that is not a RetryBudget', () => {
    expect(() => new RetryPolicy({ budget: { tryRetry: () => true } as never })).toThrow(/budget/);
  });
});
