import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Bulkhead } from './bulkhead';
import { CircuitBreaker } from './circuit-breaker';
import { CircuitState } from './circuit-state';
import { compose } from './compose';
import { ServiceErrorCode } from './error-code';
import { Fallback } from './fallback';
import { RetryPolicy } from './retry-policy';
import { isServiceError, ServiceError } from './service-error';
import { globalTimersClock, rejection } from './test-helpers';
import { Timeout } from './timeout';

const unavailable = () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down');
const never = () => new Promise<never>(() => {});

describe('compose', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 2_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('puts retry outside the breaker: retries stop at an open circuit', async () => {
    const clock = globalTimersClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, resetTimeoutMs: 10_000, clock });
    const policy = compose({
      retry: new RetryPolicy({ maxAttempts: 5, initialDelayMs: 0, clock }),
      circuitBreaker: breaker,
    });
    const fn = vi.fn(async () => {
      throw unavailable();
    });
    const error = await rejection(policy.execute(fn));
    expect(fn).toHaveBeenCalledTimes(2);
    expect(error.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
    expect(error.attempts).toBe(3);
    expect(isServiceError(error.cause, ServiceErrorCode.CIRCUIT_OPEN)).toBe(true);
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('puts the breaker outside the timeout: each timed-out attempt counts', async () => {
    const clock = globalTimersClock();
    const breaker = new CircuitBreaker({ failureThreshold: 2, clock });
    const policy = compose(
      new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, clock }),
      breaker,
      new Timeout({ timeoutMs: 100, clock }),
    );
    const signals: AbortSignal[] = [];
    const p = rejection(
      policy.execute(({ signal }) => {
        signals.push(signal);
        return never();
      }),
    );
    await vi.advanceTimersByTimeAsync(200);
    const error = await p;
    expect(signals).toHaveLength(2);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(error.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
    expect(breaker.getStats().totalTimeouts).toBe(2);
  });

  it('shares one deadline: the retry budget bounds every attempt and the delays', async () => {
    const clock = globalTimersClock();
    const policy = compose({
      retry: new RetryPolicy({
        maxAttempts: 10,
        initialDelayMs: 50,
        jitter: 'none',
        backoffMultiplier: 1,
        deadlineMs: 250,
        clock,
      }),
      timeout: new Timeout({ timeoutMs: 100, clock }),
    });
    const seen: Array<{ attempt: number; deadline: number; at: number }> = [];
    const t0 = Date.now();
    const p = rejection(
      policy.execute((ctx) => {
        seen.push({ attempt: ctx.attempt, deadline: ctx.deadline - t0, at: Date.now() - t0 });
        return never();
      }),
    );
    await vi.advanceTimersByTimeAsync(300);
    const error = await p;
    // Attempt 1: 0–100 (own timeout), wait 50; attempt 2: 150–250 (both deadlines); no time left.
    expect(seen).toEqual([
      { attempt: 1, deadline: 100, at: 0 },
      { attempt: 2, deadline: 250, at: 150 },
    ]);
    expect(error.code).toBe(ServiceErrorCode.TIMEOUT);
    expect(error.attempts).toBe(2);
  });

  it("shares the caller's signal through every layer", async () => {
    const clock = globalTimersClock();
    const policy = compose({
      retry: new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, clock }),
      circuitBreaker: new CircuitBreaker({ clock }),
      timeout: new Timeout({ timeoutMs: 10_000, clock }),
      bulkhead: new Bulkhead({ maxConcurrent: 1 }),
    });
    const controller = new AbortController();
    let inner: AbortSignal | undefined;
    const fn = vi.fn((ctx: { signal: AbortSignal }) => {
      inner = ctx.signal;
      return never();
    });
    const p = rejection(policy.execute(fn, controller.signal));
    await vi.advanceTimersByTimeAsync(10);
    controller.abort();
    const error = await p;
    expect(error.code).toBe(ServiceErrorCode.CANCELLED);
    expect(inner!.aborted).toBe(true);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('counts the wait for a bulkhead slot in the timeout', async () => {
    const clock = globalTimersClock();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    const policy = compose({ timeout: new Timeout({ timeoutMs: 100, clock }), bulkhead });
    const first = rejection(policy.execute(never));
    const fn = vi.fn(async () => 'never runs');
    const second = rejection(policy.execute(fn));
    await vi.advanceTimersByTimeAsync(100);
    expect((await first).code).toBe(ServiceErrorCode.TIMEOUT);
    expect((await second).code).toBe(ServiceErrorCode.TIMEOUT);
    expect(bulkhead.getStats().queued).toBe(0);
  });

  it('puts the fallback outermost and types its value', async () => {
    const policy = compose({
      fallback: new Fallback({ fallback: (error) => `cached (${error.code})` }),
      retry: new RetryPolicy({ maxAttempts: 2, initialDelayMs: 0 }),
    });
    const fn = vi.fn(async (): Promise<string> => {
      throw unavailable();
    });
    const value: string = await policy.execute(fn);
    expect(value).toBe('cached (SERVICE_UNAVAILABLE)');
    expect(fn).toHaveBeenCalledTimes(2);
    const cancelled = await rejection(policy.execute(fn, AbortSignal.abort()));
    expect(cancelled.code).toBe(ServiceErrorCode.CANCELLED);
  });

  it('applies argument order as given and passes values through', async () => {
    const order: string[] = [];
    const tag = (name: string) => ({
      execute: <T>(fn: () => PromiseLike<T> | T) => Promise.resolve(fn()),
      run: async <T>(fn: (c: never) => PromiseLike<T> | T, ctx: never) => {
        order.push(name);
        return fn(ctx);
      },
    });
    const policy = compose(tag('a') as never, tag('b') as never, tag('c') as never);
    expect(await policy.execute(() => 7)).toBe(7);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('gives the same results without a signal as with one that never aborts (fast-check)', async () => {
    vi.useRealTimers();
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom('ok', 'unavailable', 'bad-request', 'sync-throw', 'sync-ok'), {
          maxLength: 40,
        }),
        fc.boolean(),
        async (outcomes, withTimeout) => {
          const build = () => {
            const breaker = new CircuitBreaker({
              failureThreshold: 3,
              successThreshold: 1,
              resetTimeoutMs: 60_000,
            });
            const retry = new RetryPolicy({ maxAttempts: 2, initialDelayMs: 0 });
            const policy = withTimeout
              ? compose(retry, breaker, new Timeout({ timeoutMs: 60_000 }))
              : compose(retry, breaker);
            return { breaker, policy };
          };
          const unsignalled = build();
          const signalled = build();
          const run = async (p: ReturnType<typeof build>, signal: AbortSignal | undefined) => {
            const results: string[] = [];
            let i = 0;
            const fn = () => {
              const o = outcomes[i++ % outcomes.length];
              if (o === 'sync-throw') throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 's');
              if (o === 'sync-ok') return 'sync';
              if (o === 'unavailable')
                return Promise.reject(new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'u'));
              if (o === 'bad-request')
                return Promise.reject(new ServiceError(ServiceErrorCode.BAD_REQUEST, 'b'));
              return Promise.resolve('ok');
            };
            for (let k = 0; k < outcomes.length; k++) {
              results.push(
                await p.policy.execute(fn, signal).then(
                  (v) => `value ${v}`,
                  (e: ServiceError) => `error ${e.code} ${e.attempts}`,
                ),
              );
            }
            const { state, failureCount, totalFailures, totalSuccesses, totalIgnored, totalRejections } =
              p.breaker.getStats();
            return {
              results,
              state,
              failureCount,
              totalFailures,
              totalSuccesses,
              totalIgnored,
              totalRejections,
            };
          };
          // A signal that never aborts still wires listeners and races the call.
          expect(await run(unsignalled, undefined)).toEqual(
            await run(signalled, new AbortController().signal),
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('links policies from elsewhere and nested compositions into the one chain', async () => {
    const order: string[] = [];
    const foreign = {
      execute: <T>(fn: () => PromiseLike<T> | T) => Promise.resolve(fn()),
      run: async <T>(fn: (c: never) => PromiseLike<T> | T, ctx: never) => {
        order.push('foreign');
        return fn(ctx);
      },
    };
    const breaker = new CircuitBreaker({ failureThreshold: 2 });
    const inner = compose(new RetryPolicy({ maxAttempts: 2, initialDelayMs: 0 }), breaker);
    const policy = compose(foreign as never, inner, new Timeout({ timeoutMs: 1_000 }));
    let calls = 0;
    const value = await policy.execute((ctx) => {
      order.push(`attempt ${ctx.attempt}`);
      return ++calls === 1 ? Promise.reject(unavailable()) : 'ok';
    });
    expect(value).toBe('ok');
    // The foreign layer ran once, outside; the retry inside it ran both attempts through the breaker.
    expect(order).toEqual(['foreign', 'attempt 1', 'attempt 2']);
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.CLOSED,
      totalFailures: 1,
      totalSuccesses: 1,
    });
    const again = compose(foreign as never, compose(new RetryPolicy({ maxAttempts: 2, initialDelayMs: 0 })));
    calls = 0;
    expect(await again.execute(() => (++calls === 1 ? Promise.reject(unavailable()) : 'second'))).toBe(
      'second',
    );
  });

  it('rejects what is not a policy', () => {
    expect(() => compose()).toThrow('compose: needs at least one policy');
    expect(() => compose({} as never)).toThrow('compose: needs at least one policy');
    expect(() => compose({ breaker: new CircuitBreaker() } as never)).toThrow(
      "compose: unknown option 'breaker'",
    );
    expect(() => compose(new RetryPolicy(), 42 as never)).toThrow(
      'compose: argument 1 must be a policy (with run()), got 42',
    );
  });
});
