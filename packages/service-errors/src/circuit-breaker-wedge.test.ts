/**
 * A breaker must never wedge: a probe that never settles, a probe rejecting with something
 * unreadable, a throwing `isFailure`: the caller gets an answer and the breaker stays usable.
 */
import { describe, expect, it } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import { CircuitState } from './circuit-state';
import { ServiceErrorCode } from './error-code';
import { isServiceError, ServiceError } from './service-error';
import { manualClock, rejection } from './test-helpers';

const down = () => Promise.reject(new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down'));
const hang = () => new Promise<never>(() => {});
const settle = () => new Promise((r) => setImmediate(r));

/** An open breaker on a manual clock, reset timeout 100 ms. */
async function openBreaker(extra: ConstructorParameters<typeof CircuitBreaker>[0] = {}) {
  const { clock, advance } = manualClock(1_000);
  const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 100, clock, ...extra });
  await expect(breaker.execute(down)).rejects.toThrow('down');
  expect(breaker.state).toBe(CircuitState.OPEN);
  return { breaker, advance };
}

describe('CircuitBreaker never wedges', () => {
  it('reopens when a probe (no timeout) holds the only slot for halfOpenMaxWaitMs, then probes again', async () => {
    const { breaker, advance } = await openBreaker({ halfOpenMaxWaitMs: 1_000 });
    advance(100);
    let settleStuck!: (v: string) => void;
    const stuck = breaker.execute(() => new Promise<string>((r) => (settleStuck = r)));
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.HALF_OPEN, halfOpenInFlight: 1 });
    advance(999);
    expect((await rejection(breaker.execute(async () => 'x'))).code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
    advance(1);
    // The probe outstayed its wait: the circuit reopened (as of then) and refuses until the reset timeout.
    expect(breaker.state).toBe(CircuitState.OPEN);
    const refused = await rejection(breaker.execute(async () => 'x'));
    expect(refused.retryAfterMs).toBe(100);
    advance(100);
    expect(await breaker.execute(async () => 'second probe')).toBe('second probe');
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.HALF_OPEN,
      successCount: 1,
      halfOpenInFlight: 0,
    });
    // The stuck probe settles late: it counts for nothing and releases nothing twice.
    settleStuck('late');
    expect(await stuck).toBe('late');
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.HALF_OPEN,
      successCount: 1,
      halfOpenInFlight: 0,
    });
    expect(await breaker.execute(async () => 'third probe')).toBe('third probe');
    expect(breaker.state).toBe(CircuitState.CLOSED);
  });

  it('bounds the probe wait by default, and a late-noticed wait counts from when it ran out', async () => {
    const { breaker, advance } = await openBreaker();
    advance(100);
    void breaker.execute(hang);
    advance(59_999);
    expect(breaker.state).toBe(CircuitState.HALF_OPEN);
    // Noticed long after: reopened at 60 000 ms, half-open again 100 ms later, so this call probes.
    advance(10_000);
    expect(await breaker.execute(async () => 'probe')).toBe('probe');
  });

  it('waits for a probe as long as the breaker timeout when one is set', () => {
    const { clock } = manualClock();
    expect(() => new CircuitBreaker({ timeout: 120_000, clock })).not.toThrow();
    expect(() => new CircuitBreaker({ halfOpenMaxWaitMs: 0 })).toThrow(
      'CircuitBreaker: halfOpenMaxWaitMs must be an integer number of milliseconds between 1 and 2147483647',
    );
  });

  it.each([
    [
      'an object whose getters throw',
      () =>
        Object.defineProperty({}, 'message', {
          get: () => {
            throw new Error('getter');
          },
        }),
    ],
    [
      'a Proxy whose traps throw',
      () =>
        new Proxy(
          {},
          {
            get: () => {
              throw new Error('trap');
            },
            has: () => {
              throw new Error('trap');
            },
          },
        ),
    ],
    [
      'a revoked Proxy',
      () => {
        const p = Proxy.revocable({}, {});
        p.revoke();
        return p.proxy;
      },
    ],
    ['an object without a prototype', () => Object.create(null)],
    ['a string', () => 'plain'],
    ['null', () => null],
    ['undefined', () => undefined],
    ['a symbol', () => Symbol('thrown')],
    ['a number', () => 42],
  ])('releases the probe slot when a probe rejects with %s', async (_name, make) => {
    const { breaker, advance } = await openBreaker();
    advance(100);
    const thrown = make();
    // Wrapped: resolving a promise with a hostile Proxy would read its `then`.
    const outcome = await breaker
      .execute(() => Promise.reject(thrown))
      .then(
        () => ({ rejected: false, value: undefined as unknown }),
        (value: unknown) => ({ rejected: true, value }),
      );
    // Errors pass through unchanged; the value reached the caller, not a getter's error.
    expect(outcome.rejected).toBe(true);
    expect(outcome.value === thrown).toBe(true);
    // It counted as a failed probe: the slot is free and the circuit reopened.
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.OPEN, halfOpenInFlight: 0 });
    advance(100);
    expect(await breaker.execute(async () => 'next probe')).toBe('next probe');
  });

  it('turns a throwing isFailure into an INTERNAL_ERROR with the cause, counts the call and frees the slot', async () => {
    const predicateError = new Error('predicate bug');
    const { breaker, advance } = await openBreaker({
      isFailure: (e) => {
        if (e.code === ServiceErrorCode.TIMEOUT) throw predicateError;
        return true;
      },
    });
    advance(100);
    const error = await rejection(
      breaker.execute(() => Promise.reject(new ServiceError(ServiceErrorCode.TIMEOUT, 'slow'))),
    );
    expect(error.code).toBe(ServiceErrorCode.INTERNAL_ERROR);
    expect(error.message).toBe('CircuitBreaker: isFailure threw: predicate bug');
    expect(error.cause).toBe(predicateError);
    expect(error.metadata).toMatchObject({
      hook: 'isFailure',
      judging: { code: 'TIMEOUT', message: 'slow' },
    });
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.OPEN,
      halfOpenInFlight: 0,
      totalFailures: 2,
    });

    // The same while CLOSED, synchronously and asynchronously.
    breaker.reset();
    const sync = await rejection(
      breaker.execute(() => {
        throw new ServiceError(ServiceErrorCode.TIMEOUT, 'sync');
      }),
    );
    expect(isServiceError(sync, ServiceErrorCode.INTERNAL_ERROR)).toBe(true);
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.OPEN, totalFailures: 3 });
    await settle();
  });

  it('builds a rejection without touching Error.stackTraceLimit', async () => {
    const { breaker } = await openBreaker();
    const descriptor = Object.getOwnPropertyDescriptor(Error, 'stackTraceLimit')!;
    const writes: unknown[] = [];
    let limit = descriptor.value as number;
    Object.defineProperty(Error, 'stackTraceLimit', {
      configurable: true,
      get: () => limit,
      set: (v) => {
        writes.push(v);
        limit = v;
      },
    });
    try {
      const error = await rejection(breaker.execute(async () => 'x'));
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toBeInstanceOf(Error);
      expect(error.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
      expect(error.stack).toBe(`ServiceError: ${error.message}`);
      expect(error.toJSON()).toMatchObject({ code: 'CIRCUIT_OPEN', retryable: false, retryAfterMs: 100 });
    } finally {
      Object.defineProperty(Error, 'stackTraceLimit', descriptor);
    }
    expect(writes).toEqual([]);
  });

  it('gives the caller its own outcome when the logger throws on a transition', async () => {
    const throwing = () => {
      throw new Error('logger down');
    };
    const logger = { debug: throwing, info: throwing, warn: throwing, error: throwing };
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.message);
    process.on('warning', onWarning);
    try {
      const { clock, advance } = manualClock(1_000);
      const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 100, clock, logger });
      const stateChanges: string[] = [];
      breaker.on('stateChange', (e) => stateChanges.push(`${e.from}>${e.to}`));
      // The opening failure, on the CLOSED path: the caller sees the call's error.
      expect((await rejection(breaker.execute(down))).message).toBe('down');
      expect(breaker.state).toBe(CircuitState.OPEN);
      advance(100);
      // A failed probe reopens the circuit: the caller sees the probe's error, the slot is free.
      expect((await rejection(breaker.execute(down))).message).toBe('down');
      expect(breaker.getStats()).toMatchObject({ state: CircuitState.OPEN, halfOpenInFlight: 0 });
      advance(100);
      // Probes that close it: the caller gets the value.
      expect(await breaker.execute(async () => 'one')).toBe('one');
      expect(await breaker.execute(() => 'two')).toBe('two');
      expect(breaker.state).toBe(CircuitState.CLOSED);
      expect(stateChanges).toEqual([
        'CLOSED>OPEN',
        'OPEN>HALF_OPEN',
        'HALF_OPEN>OPEN',
        'OPEN>HALF_OPEN',
        'HALF_OPEN>CLOSED',
      ]);
      await settle();
      expect(warnings.some((w) => w.includes('logger down'))).toBe(true);
    } finally {
      process.off('warning', onWarning);
    }
  });

  it('rejects duration options a timer cannot hold, naming the field', () => {
    const tooLong = 2 ** 31;
    for (const [options, field] of [
      [{ timeout: tooLong }, 'timeout'],
      [{ resetTimeoutMs: tooLong }, 'resetTimeoutMs'],
      [{ slowCallDurationMs: tooLong }, 'slowCallDurationMs'],
      [{ halfOpenMaxWaitMs: tooLong }, 'halfOpenMaxWaitMs'],
      [{ slidingWindow: { type: 'time', sizeMs: tooLong } }, 'slidingWindow.sizeMs'],
    ] as const) {
      let caught: unknown;
      try {
        new CircuitBreaker(options as never);
      } catch (e) {
        caught = e;
      }
      expect(isServiceError(caught, ServiceErrorCode.BAD_REQUEST)).toBe(true);
      expect((caught as ServiceError).message).toContain(
        `${field} must be an integer number of milliseconds`,
      );
      expect((caught as ServiceError).metadata).toMatchObject({ field });
    }
    expect(() => new CircuitBreaker({ timeout: 2 ** 31 - 1, resetTimeoutMs: 2 ** 31 - 1 })).not.toThrow();
  });
});
