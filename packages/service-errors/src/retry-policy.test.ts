import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffCeiling, backoffDelay } from './backoff';
import { ServiceErrorCode } from './error-code';
import { type GiveUpReason, RetryPolicy } from './retry-policy';
import { ServiceError } from './service-error';
import { globalTimersClock, rejection } from './test-helpers';

/** A grpc-js status error, as a client callback receives it. */
function grpcError(code: number, details: string, pushbackMs?: string): Error {
  const md = new Map<string, string[]>();
  if (pushbackMs !== undefined) md.set('grpc-retry-pushback-ms', [pushbackMs]);
  return Object.assign(new Error(`${code} ${details}`), {
    code,
    details,
    metadata: { get: (k: string) => md.get(k) ?? [] },
  });
}

/** Fails `n` times with `error()`, then returns 'done'. */
function flaky(n: number, error: () => unknown) {
  let calls = 0;
  const fn = vi.fn(async () => {
    if (calls++ < n) throw error();
    return 'done';
  });
  return fn;
}

describe('RetryPolicy', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries the documented retryable errors: gRPC UNAVAILABLE by status name, TIMEOUT by code name', async () => {
    const policy = new RetryPolicy({
      maxAttempts: 3,
      initialDelayMs: 100,
      maxDelayMs: 5000,
      backoffMultiplier: 2,
      retryableErrors: ['UNAVAILABLE', 'TIMEOUT'],
      clock: globalTimersClock(),
    });
    let n = 0;
    const fn = vi.fn(async () => {
      n++;
      if (n === 1) throw grpcError(14, 'connection refused');
      if (n === 2) throw new ServiceError(ServiceErrorCode.TIMEOUT, 'slow');
      return 'done';
    });
    const result = policy.execute(fn);
    await vi.runAllTimersAsync();
    expect(await result).toBe('done');
    expect(fn).toHaveBeenCalledTimes(3);
  });

  it('gives up with the last error code, the attempts and the last error as cause', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, retryableErrors: ['UNAVAILABLE'] });
    const last = grpcError(14, 'still down');
    const fn = flaky(10, () => last);
    const error = await rejection(policy.execute(fn));
    expect(fn).toHaveBeenCalledTimes(3);
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.attempts).toBe(3);
    expect(error.cause).toBe(last);
    expect(error.message).toBe('still down (gave up after 3 attempts)');
    expect(error.toJSON().attempts).toBe(3);
  });

  it("without retryableErrors follows the error's own retryable", async () => {
    const policy = new RetryPolicy({ maxAttempts: 5, initialDelayMs: 0 });
    const transient = flaky(2, () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'x'));
    expect(await policy.execute(transient)).toBe('done');
    expect(transient).toHaveBeenCalledTimes(3);
    const final = flaky(2, () => new ServiceError(ServiceErrorCode.ASR_FAILED, 'x'));
    const error = await rejection(policy.execute(final));
    expect(final).toHaveBeenCalledTimes(1);
    expect(error.attempts).toBe(1);
    expect(error.code).toBe(ServiceErrorCode.ASR_FAILED);
    const plain = flaky(2, () => new Error('a bug'));
    expect((await rejection(policy.execute(plain))).code).toBe(ServiceErrorCode.INTERNAL_ERROR);
    expect(plain).toHaveBeenCalledTimes(1);
  });

  it('does not retry an open circuit even when UNAVAILABLE is listed, unless CIRCUIT_OPEN is', async () => {
    const open = () =>
      new ServiceError(ServiceErrorCode.CIRCUIT_OPEN, 'open', undefined, { retryable: false });
    const byStatus = new RetryPolicy({
      maxAttempts: 3,
      initialDelayMs: 0,
      retryableErrors: ['UNAVAILABLE', 14],
    });
    const fn = flaky(1, open);
    await expect(byStatus.execute(fn)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN', attempts: 1 });
    const byCode = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, retryableErrors: ['CIRCUIT_OPEN'] });
    expect(await byCode.execute(flaky(1, open))).toBe('done');
  });

  it('lets shouldRetry have the final say', async () => {
    const seen: Array<[string, number, boolean]> = [];
    const policy = new RetryPolicy({
      maxAttempts: 4,
      initialDelayMs: 0,
      shouldRetry: (error, d) => {
        seen.push([error.code, d.attempt, d.retryable]);
        return d.attempt < 2;
      },
    });
    const error = await rejection(policy.execute(flaky(5, () => grpcError(14, 'x'))));
    expect(error.attempts).toBe(2);
    expect(seen).toEqual([
      ['SERVICE_UNAVAILABLE', 1, true],
      ['SERVICE_UNAVAILABLE', 2, true],
    ]);
  });

  it('retries a zero delay at once, without any timer', async () => {
    const policy = new RetryPolicy({ maxAttempts: 5, initialDelayMs: 0 });
    const fn = flaky(4, () => grpcError(14, 'x'));
    const timers = vi.spyOn(globalThis, 'setTimeout');
    expect(await policy.execute(fn)).toBe('done');
    expect(timers).not.toHaveBeenCalled();
    timers.mockRestore();
  });

  it('waits exactly the backoff between attempts (no jitter)', async () => {
    const policy = new RetryPolicy({
      maxAttempts: 5,
      initialDelayMs: 100,
      backoffMultiplier: 3,
      maxDelayMs: 500,
      jitter: 'none',
      clock: globalTimersClock(),
    });
    const starts: number[] = [];
    const t0 = Date.now();
    const result = policy.execute(async () => {
      starts.push(Date.now() - t0);
      throw grpcError(14, 'x');
    });
    result.catch(() => {});
    await vi.runAllTimersAsync();
    await expect(result).rejects.toMatchObject({ attempts: 5 });
    expect(starts).toEqual([0, 100, 400, 900, 1400]);
  });

  it('keeps every jittered delay within its documented bounds', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 10_000 }),
        fc.double({ min: 1, max: 4, noNaN: true }),
        fc.integer({ min: 1, max: 30 }),
        fc.constantFrom('full', 'equal', 'decorrelated', 'none') as fc.Arbitrary<
          'full' | 'equal' | 'decorrelated' | 'none'
        >,
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        fc.integer({ min: 0, max: 10_000 }),
        (initialDelayMs, maxDelayMs, backoffMultiplier, attempt, jitter, r, previous) => {
          const o = { initialDelayMs, maxDelayMs, backoffMultiplier, jitter };
          const ceiling = backoffCeiling(attempt, o);
          const d = backoffDelay(attempt, previous, o, () => r);
          expect(Number.isInteger(d)).toBe(true);
          expect(d).toBeGreaterThanOrEqual(0);
          expect(d).toBeLessThanOrEqual(maxDelayMs);
          expect(ceiling).toBeLessThanOrEqual(maxDelayMs);
          if (jitter === 'none') expect(d).toBe(Math.round(ceiling));
          if (jitter === 'full') expect(d).toBeLessThanOrEqual(Math.round(ceiling));
          if (jitter === 'equal') {
            expect(d).toBeGreaterThanOrEqual(Math.floor(ceiling / 2));
            expect(d).toBeLessThanOrEqual(Math.round(ceiling));
          }
          if (jitter === 'decorrelated') {
            expect(d).toBeGreaterThanOrEqual(Math.min(maxDelayMs, initialDelayMs));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('schedules each retry within [0, ceiling] with full jitter, on fake timers', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.double({ min: 0, max: 0.999, noNaN: true }), { minLength: 4, maxLength: 4 }),
        async (rs) => {
          let i = 0;
          const policy = new RetryPolicy({
            maxAttempts: 5,
            initialDelayMs: 100,
            maxDelayMs: 1000,
            random: () => rs[i++]!,
            clock: globalTimersClock(),
          });
          const starts: number[] = [];
          const t0 = Date.now();
          const p = policy.execute(async () => {
            starts.push(Date.now() - t0);
            throw grpcError(14, 'x');
          });
          p.catch(() => {});
          await vi.runAllTimersAsync();
          const gaps = starts.slice(1).map((s, k) => s - starts[k]!);
          gaps.forEach((gap, k) => {
            const ceiling = Math.min(1000, 100 * 2 ** k);
            expect(gap).toBe(Math.round(rs[k]! * ceiling));
            expect(gap).toBeLessThanOrEqual(ceiling);
          });
        },
      ),
      { numRuns: 50 },
    );
  });

  it('waits for server pushback instead of the backoff', async () => {
    const policy = new RetryPolicy({
      maxAttempts: 2,
      initialDelayMs: 1,
      jitter: 'none',
      clock: globalTimersClock(),
    });
    const fn = flaky(1, () => grpcError(14, 'busy', '750'));
    const p = policy.execute(fn);
    await vi.advanceTimersByTimeAsync(749);
    expect(fn).toHaveBeenCalledTimes(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(await p).toBe('done');
    expect(fn).toHaveBeenCalledTimes(2);
  });

  it('never sleeps past the deadline and does not start an attempt that cannot finish', async () => {
    const reasons: GiveUpReason[] = [];
    const policy = new RetryPolicy({
      maxAttempts: 10,
      initialDelayMs: 400,
      jitter: 'none',
      backoffMultiplier: 1,
      deadlineMs: 1000,
      minAttemptMs: 100,
      clock: globalTimersClock(),
    });
    const starts: number[] = [];
    const t0 = Date.now();
    let gaveUpAt = -1;
    policy.on('giveUp', (e) => {
      reasons.push(e.reason);
      gaveUpAt = Date.now() - t0;
    });
    const p = rejection(
      policy.execute(async () => {
        starts.push(Date.now() - t0);
        throw grpcError(14, 'x');
      }),
    );
    await vi.runAllTimersAsync();
    const error = await p;
    // 0, 400; the next would start at 800 with 200 ms left, but a wait past 900 leaves < 100 ms.
    expect(starts).toEqual([0, 400, 800]);
    expect(error.attempts).toBe(3);
    expect(reasons).toEqual(['deadline']);
    expect(gaveUpAt).toBe(800);
  });

  it('aborts a running attempt at the deadline with TIMEOUT', async () => {
    const policy = new RetryPolicy({
      maxAttempts: 5,
      initialDelayMs: 0,
      deadlineMs: 300,
      clock: globalTimersClock(),
    });
    const signals: AbortSignal[] = [];
    const p = rejection(
      policy.execute(({ signal }) => {
        signals.push(signal);
        return new Promise(() => {});
      }),
    );
    await vi.advanceTimersByTimeAsync(300);
    const error = await p;
    expect(error.code).toBe(ServiceErrorCode.TIMEOUT);
    expect(error.attempts).toBe(1);
    expect(signals).toHaveLength(1);
    expect(signals[0]!.aborted).toBe(true);
  });

  it('stops at once when the caller aborts, during a delay or an attempt', async () => {
    const policy = new RetryPolicy({
      maxAttempts: 5,
      initialDelayMs: 10_000,
      jitter: 'none',
      clock: globalTimersClock(),
    });
    const controller = new AbortController();
    const fn = flaky(5, () => grpcError(14, 'x'));
    const p = rejection(policy.execute(fn, controller.signal));
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    const error = await p;
    expect(error.code).toBe(ServiceErrorCode.CANCELLED);
    expect(error.attempts).toBe(1);
    expect(fn).toHaveBeenCalledTimes(1);
    expect(vi.getTimerCount()).toBe(0);

    const c2 = new AbortController();
    const hang = vi.fn(() => new Promise<never>(() => {}));
    const p2 = rejection(policy.execute(hang, c2.signal));
    c2.abort();
    expect((await p2).code).toBe(ServiceErrorCode.CANCELLED);
    expect(hang).toHaveBeenCalledTimes(1);

    const fn3 = vi.fn(async () => 'x');
    await expect(policy.execute(fn3, AbortSignal.abort())).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fn3).not.toHaveBeenCalled();
  });

  it('emits retry, giveUp and success events', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0 });
    const events: string[] = [];
    policy.on('retry', (e) => events.push(`retry ${e.attempt} ${e.delayMs} ${e.error.code}`));
    policy.on('giveUp', (e) => events.push(`giveUp ${e.attempts} ${e.reason}`));
    policy.on('success', (e) => events.push(`success ${e.attempts}`));
    await policy.execute(flaky(1, () => grpcError(14, 'x')));
    await policy.execute(flaky(5, () => grpcError(4, 'x'))).catch(() => {});
    expect(events).toEqual([
      'retry 1 0 SERVICE_UNAVAILABLE',
      'success 2',
      'retry 1 0 TIMEOUT',
      'retry 2 0 TIMEOUT',
      'giveUp 3 attempts-exhausted',
    ]);
  });

  it('passes the attempt number and handles synchronous operations', async () => {
    const policy = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0 });
    const attempts: number[] = [];
    const value = await policy.execute(({ attempt }) => {
      attempts.push(attempt);
      if (attempt < 3) throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'x');
      return attempt * 10;
    });
    expect(value).toBe(30);
    expect(attempts).toEqual([1, 2, 3]);
  });

  it('validates options with messages naming the field and the value', () => {
    expect(() => new RetryPolicy({ maxAttempts: 0 })).toThrow(
      'RetryPolicy: maxAttempts must be a positive integer, got 0',
    );
    expect(() => new RetryPolicy({ backoffMultiplier: 0.5 })).toThrow(
      'backoffMultiplier must be a number >= 1, got 0.5',
    );
    expect(() => new RetryPolicy({ retryableErrors: ['UNAVAILBLE' as never] })).toThrow(
      'retryableErrors.0 must be a ServiceErrorCode name, a gRPC status name or a gRPC status number (0-16), got "UNAVAILBLE"',
    );
    expect(() => new RetryPolicy({ jitter: 'some' as never })).toThrow('jitter');
    expect(() => new RetryPolicy({ initialDelayMs: 100, maxDelayMs: 50 })).toThrow(
      'RetryPolicy: maxDelayMs must be at least initialDelayMs (100), got 50',
    );
  });
});
