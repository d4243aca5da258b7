/**
 * Server pushback and the timer range: a server asking for longer than the policy may wait
 * (its `maxPushbackMs`, its deadline, or more than a timer holds) ends the retries with the
 * server's error, at once; no delay overflows a timer.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { type GiveUpReason, RetryPolicy } from './retry-policy';
import { isServiceError, ServiceError } from './service-error';
import { globalTimersClock, rejection } from './test-helpers';

function grpcUnavailable(pushbackMs: string): Error {
  return Object.assign(new Error('14 UNAVAILABLE: overloaded'), {
    code: 14,
    details: 'overloaded',
    metadata: { get: (k: string) => (k === 'grpc-retry-pushback-ms' ? [pushbackMs] : []) },
  });
}

function http503(retryAfter: string): unknown {
  return {
    message: 'Service Unavailable',
    response: { status: 503, headers: { 'retry-after': retryAfter } },
  };
}

/** Runs a policy against an operation that always fails with `error()`; returns calls and outcome. */
async function against(policy: RetryPolicy, error: () => unknown) {
  const reasons: GiveUpReason[] = [];
  policy.on('giveUp', (e) => reasons.push(e.reason));
  let calls = 0;
  const timers = vi.getTimerCount();
  const result = await rejection(
    policy.execute(async () => {
      calls++;
      throw error();
    }),
  );
  return { calls, result, reasons, timersLeft: vi.getTimerCount() - timers };
}

beforeEach(() => {
  vi.useFakeTimers({ now: new Date('2026-12-01T00:00:00Z') });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('RetryPolicy and server pushback', () => {
  it.each([
    ['grpc-retry-pushback-ms beyond the timer range', () => grpcUnavailable('2147483648')],
    ['grpc-retry-pushback-ms of a day', () => grpcUnavailable('86400000')],
    ['Retry-After in seconds beyond the timer range', () => http503('2147484')],
    ['Retry-After as a far date', () => http503('Fri, 31 Dec 9999 23:59:59 GMT')],
    ['Retry-After of two minutes', () => http503('120')],
  ])('ends the retries at once with the server error on %s', async (_name, error) => {
    const policy = new RetryPolicy({ maxAttempts: 5, initialDelayMs: 1, clock: globalTimersClock() });
    const { calls, result, reasons, timersLeft } = await against(policy, error);
    expect(calls).toBe(1);
    expect(reasons).toEqual(['pushback']);
    expect(result.code).toMatch(/SERVICE_UNAVAILABLE/);
    expect(result.attempts).toBe(1);
    expect(result.retryAfterMs).toBeGreaterThan(60_000);
    expect(result.retryAfterMs).toBeLessThanOrEqual(2 ** 31 - 1);
    expect(timersLeft).toBe(0);
  });

  it('waits for a pushback up to maxPushbackMs (default 60 s), and takes a larger cap when given', async () => {
    const waits = new RetryPolicy({ maxAttempts: 2, clock: globalTimersClock() });
    let calls = 0;
    const p = waits.execute(async () => {
      if (++calls === 1) throw grpcUnavailable('60000');
      return 'done';
    });
    await vi.advanceTimersByTimeAsync(59_999);
    expect(calls).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toBe('done');

    const capped = new RetryPolicy({ maxAttempts: 2, maxPushbackMs: 1_000, clock: globalTimersClock() });
    expect((await against(capped, () => grpcUnavailable('1001'))).reasons).toEqual(['pushback']);
    const patient = new RetryPolicy({ maxAttempts: 2, maxPushbackMs: 300_000, clock: globalTimersClock() });
    let n = 0;
    const q = patient.execute(async () => {
      if (++n === 1) throw http503('120');
      return 'later';
    });
    await vi.advanceTimersByTimeAsync(120_000);
    expect(await q).toBe('later');
  });

  it('ends the retries when the pushback would pass the deadline', async () => {
    const policy = new RetryPolicy({ maxAttempts: 5, deadlineMs: 5_000, clock: globalTimersClock() });
    const { calls, result, reasons } = await against(policy, () => grpcUnavailable('10000'));
    expect(calls).toBe(1);
    expect(reasons).toEqual(['deadline']);
    expect(result.retryAfterMs).toBe(10_000);
  });

  it('rejects duration options a timer cannot hold, naming the field', () => {
    for (const field of ['initialDelayMs', 'maxDelayMs', 'deadlineMs', 'minAttemptMs', 'maxPushbackMs']) {
      let caught: unknown;
      try {
        new RetryPolicy({ [field]: 2 ** 31 });
      } catch (e) {
        caught = e;
      }
      expect(isServiceError(caught, ServiceErrorCode.BAD_REQUEST)).toBe(true);
      expect((caught as ServiceError).metadata).toMatchObject({ field });
      expect((caught as ServiceError).message).toContain(
        `RetryPolicy: ${field} must be an integer number of milliseconds`,
      );
    }
  });
});

describe('RetryPolicy with a throwing hook', () => {
  it('turns a throwing shouldRetry into an INTERNAL_ERROR with the cause, after one attempt', async () => {
    const bug = new TypeError('hook bug');
    const policy = new RetryPolicy({
      maxAttempts: 3,
      initialDelayMs: 0,
      shouldRetry: () => {
        throw bug;
      },
    });
    const { calls, result, reasons } = await against(
      policy,
      () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down'),
    );
    expect(calls).toBe(1);
    expect(reasons).toEqual(['not-retryable']);
    expect(result.code).toBe(ServiceErrorCode.INTERNAL_ERROR);
    expect(result.message).toBe('RetryPolicy: shouldRetry threw: hook bug');
    expect(result.cause).toBe(bug);
    expect(result.attempts).toBe(1);
    expect(result.metadata).toMatchObject({ judging: { code: 'SERVICE_UNAVAILABLE' } });
  });

  it('gives the caller the final error when the logger throws', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const logger = { debug: throwing, info: throwing, warn: throwing, error: throwing };
    const policy = new RetryPolicy({ maxAttempts: 2, initialDelayMs: 0, logger });
    const { calls, result, reasons } = await against(
      policy,
      () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down'),
    );
    expect(calls).toBe(2);
    expect(reasons).toEqual(['attempts-exhausted']);
    expect(result.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(result.attempts).toBe(2);
  });

  it.each([
    ['returns a number out of range', () => 5],
    ['returns NaN', () => Number.NaN],
    [
      'throws',
      () => {
        throw new Error('no entropy');
      },
    ],
  ])('fails the call with INTERNAL_ERROR when random %s', async (_name, random) => {
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 100, random });
    const { calls, result } = await against(
      policy,
      () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down'),
    );
    expect(calls).toBe(1);
    expect(result.code).toBe(ServiceErrorCode.INTERNAL_ERROR);
    expect(result.message).toMatch(/^RetryPolicy: random threw: /);
  });
});
