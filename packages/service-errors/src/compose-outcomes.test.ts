/**
 * How outcomes travel down a composed chain: a timeout linked directly inside a breaker or a
 * retry tells them each outcome as it settles (see OutcomeObserver), one reached through another
 * policy's `run` cannot, and the two must behave alike.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import { compose } from './compose';
import { ServiceErrorCode } from './error-code';
import { RetryPolicy } from './retry-policy';
import { ServiceError } from './service-error';
import { globalTimersClock, rejection } from './test-helpers';
import { Timeout } from './timeout';

const unavailable = () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down');
const never = () => new Promise<never>(() => {});
/** The same timeout, reached through its public `run` only: it cannot take an observer. */
const throughRun = (t: Timeout) => ({ execute: t.execute.bind(t), run: t.run.bind(t) }) as Timeout;

describe('compose: outcomes told by the layer that settles', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 2_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('has a breaker count the same outcomes whether the timeout inside reports them or it watches itself', async () => {
    // A timeout linked directly inside a breaker tells it each outcome as it settles; one
    // reached through another policy's `run` cannot, so that breaker reacts to the promise.
    const outcomes = async (wrap: (t: Timeout) => Timeout) => {
      const clock = globalTimersClock();
      const breaker = new CircuitBreaker({ failureThreshold: 100, clock });
      const timeout = new Timeout({ timeoutMs: 100, clock });
      const policy = compose(breaker, wrap(timeout));
      const own = new CircuitBreaker({ failureThreshold: 100, timeout: 100, clock });
      const seen: unknown[] = [];
      for (const p of [policy, own]) {
        const controller = new AbortController();
        const calls = [
          p.execute(async () => 'ok'),
          p.execute(() => 'sync'),
          p.execute(async () => {
            throw unavailable();
          }),
          p.execute(never),
          p.execute(never, controller.signal),
        ].map((call) => call.then(String, (e: ServiceError) => e.code));
        await vi.advanceTimersByTimeAsync(50);
        controller.abort();
        await vi.advanceTimersByTimeAsync(100);
        seen.push(await Promise.all(calls));
      }
      return { seen, linked: breaker.getStats(), own: own.getStats() };
    };
    const linked = await outcomes((t) => t);
    const foreign = await outcomes(throughRun);
    expect(linked.seen[0]).toEqual(['ok', 'sync', 'SERVICE_UNAVAILABLE', 'TIMEOUT', 'CANCELLED']);
    expect(linked.seen).toEqual([linked.seen[0], linked.seen[0]]);
    expect(foreign.seen).toEqual(linked.seen);
    const counts = { totalSuccesses: 2, totalFailures: 2, totalTimeouts: 1, totalIgnored: 1 };
    expect(linked.linked).toMatchObject(counts);
    expect(linked.own).toMatchObject(counts);
    expect(foreign.linked).toMatchObject(counts);
  });

  it('retries the same way whether the timeout inside answers its failures or the retry watches itself', async () => {
    // Each attempt of a script: resolves, rejects (retryable or not), throws, returns or hangs.
    const scripts = [
      ['ok'],
      ['fail', 'ok'],
      ['hang', 'ok'],
      ['throw', 'hang', 'value'],
      ['fail', 'final'],
      ['hang', 'hang', 'hang'],
      ['fail', 'fail', 'fail'],
    ];
    const run = async (wrap: (t: Timeout) => Timeout, withBreaker: boolean) => {
      const clock = globalTimersClock();
      const breaker = new CircuitBreaker({ failureThreshold: 100, clock });
      const retry = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, clock });
      const timeout = wrap(new Timeout({ timeoutMs: 100, clock }));
      const policy = withBreaker ? compose(retry, breaker, timeout) : compose(retry, timeout);
      const log: string[] = [];
      for (const script of scripts) {
        let attempt = 0;
        const call = policy
          .execute(({ signal }) => {
            const step = script[attempt++];
            const name = `${step}@${attempt}`;
            log.push(`start ${name}`);
            signal.addEventListener('abort', () => log.push(`abort ${name}`));
            if (step === 'throw') throw unavailable();
            if (step === 'value') return name;
            if (step === 'hang') return never();
            if (step === 'fail') return Promise.reject(unavailable());
            if (step === 'final') return Promise.reject(new ServiceError(ServiceErrorCode.BAD_REQUEST, 'no'));
            return Promise.resolve(name);
          })
          .then(
            (value) => log.push(`value ${value}`),
            (e: ServiceError) => log.push(`error ${e.code} after ${e.attempts}`),
          );
        await vi.advanceTimersByTimeAsync(500);
        await call;
      }
      // Both runs share the fake clock, one after the other: times differ, counts must not.
      const { lastFailureTime: _, ...stats } = breaker.getStats();
      return { log, stats };
    };
    for (const withBreaker of [true, false]) {
      const linked = await run((t) => t, withBreaker);
      const foreign = await run(throughRun, withBreaker);
      expect(linked.log).toEqual(foreign.log);
      expect(linked.stats).toEqual(foreign.stats);
    }
    const { log, stats } = await run((t) => t, true);
    expect(log.filter((line) => !line.startsWith('start'))).toEqual([
      'value ok@1',
      'value ok@2',
      'abort hang@1',
      'value ok@2',
      'abort hang@2',
      'value value@3',
      'error BAD_REQUEST after 2',
      'abort hang@1',
      'abort hang@2',
      'abort hang@3',
      'error TIMEOUT after 3',
      'error SERVICE_UNAVAILABLE after 3',
    ]);
    expect(stats).toMatchObject({ totalSuccesses: 4, totalFailures: 11, totalTimeouts: 5, totalIgnored: 1 });
  });

  it('counts a call whose operation runs the same breaker with a timeout before it returns', async () => {
    // The inner call's timeout reports its own outcome: the outer one must still be watched.
    const breaker = new CircuitBreaker({ failureThreshold: 100 });
    const timed = compose(breaker, new Timeout({ timeoutMs: 1_000 }));
    let inner: Promise<unknown> | undefined;
    const outer = breaker.execute(() => {
      inner = timed.execute(async () => 1);
      return Promise.reject(unavailable());
    });
    expect((await rejection(outer)).code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(await inner).toBe(1);
    expect(breaker.getStats()).toMatchObject({ totalSuccesses: 1, totalFailures: 1 });
  });
});
