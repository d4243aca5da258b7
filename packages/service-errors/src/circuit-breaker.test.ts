import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CircuitBreaker } from './circuit-breaker';
import type { CircuitBreakerEvents } from './circuit-breaker-options';
import { CircuitState } from './circuit-state';
import type { Clock } from './clock';
import { ServiceErrorCode } from './error-code';
import { isServiceError, ServiceError } from './service-error';
import { globalTimersClock, rejection } from './test-helpers';

const unavailable = () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down');
const fail = async (): Promise<never> => {
  throw unavailable();
};
const ok = async () => 'ok';

describe('CircuitBreaker', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs the documented usage options (5 failures, 2 successes, 30 s timeout, 60 s reset) and opens after failureThreshold consecutive failures', async () => {
    const breaker = new CircuitBreaker({
      failureThreshold: 5,
      successThreshold: 2,
      timeout: 30000,
      resetTimeoutMs: 60000,
      clock: globalTimersClock(),
    });
    expect(await breaker.execute(ok)).toBe('ok');
    for (let i = 0; i < 4; i++) await expect(breaker.execute(fail)).rejects.toThrow('down');
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.CLOSED, failureCount: 4 });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.getStats().failureCount).toBe(0);
    for (let i = 0; i < 5; i++) await expect(breaker.execute(fail)).rejects.toThrow('down');
    const stats = breaker.getStats();
    expect(stats.state).toBe(CircuitState.OPEN);
    // The documented usage prints failureCount once the circuit is open: it says why.
    expect(stats.failureCount).toBe(5);
    expect(stats.lastFailureTime).toBe(Date.now());
    expect(stats.nextAttemptTime).toBe(Date.now() + 60000);
    expect(stats.totalFailures).toBe(9);
  });

  it('rejects while open with a non-retryable CIRCUIT_OPEN that tells when to come back', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 1000, service: 'asr' });
    await expect(breaker.execute(fail)).rejects.toThrow();
    const fn = vi.fn(ok);
    vi.advanceTimersByTime(400);
    const error = await rejection(breaker.execute(fn));
    expect(fn).not.toHaveBeenCalled();
    expect(error.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
    expect(error.retryable).toBe(false);
    expect(error.service).toBe('asr');
    expect(error.retryAfterMs).toBe(600);
    expect(breaker.getStats().totalRejections).toBe(1);
  });

  it('moves to HALF_OPEN on the next call after resetTimeoutMs, with no timer while idle', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, successThreshold: 2, resetTimeoutMs: 1000 });
    const changes: CircuitBreakerEvents['stateChange'][] = [];
    breaker.on('stateChange', (e) => changes.push(e));
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(999);
    await expect(breaker.execute(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    vi.advanceTimersByTime(1);
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.HALF_OPEN, successCount: 1 });
    await expect(breaker.execute(ok)).resolves.toBe('ok');
    expect(breaker.state).toBe(CircuitState.CLOSED);
    expect(changes.map((c) => `${c.from}>${c.to}`)).toEqual([
      'CLOSED>OPEN',
      'OPEN>HALF_OPEN',
      'HALF_OPEN>CLOSED',
    ]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('lets exactly one of 100 concurrent calls into HALF_OPEN', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 10 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    vi.advanceTimersByTime(10);
    let started = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const calls = Array.from({ length: 100 }, () =>
      breaker.execute(async () => {
        started++;
        await gate;
        return 'probe';
      }),
    );
    const settled = Promise.allSettled(calls);
    await Promise.resolve();
    expect(started).toBe(1);
    expect(breaker.getStats().halfOpenInFlight).toBe(1);
    release();
    const results = await settled;
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(rejected).toHaveLength(99);
    expect(rejected.every((r) => isServiceError(r.reason, ServiceErrorCode.CIRCUIT_OPEN))).toBe(true);
  });

  it('honours halfOpenMaxConcurrent and reopens on a failed probe', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 10, halfOpenMaxConcurrent: 3 });
    await expect(breaker.execute(fail)).rejects.toThrow();
    vi.advanceTimersByTime(10);
    let started = 0;
    const calls = Array.from({ length: 10 }, () =>
      breaker.execute(async () => {
        started++;
        throw unavailable();
      }),
    );
    await Promise.allSettled(calls);
    expect(started).toBe(3);
    expect(breaker.state).toBe(CircuitState.OPEN);
    expect(breaker.getStats().nextAttemptTime).toBe(Date.now() + 10);
  });

  it('does not count caller mistakes, cancellations or grpc INVALID_ARGUMENT / NOT_FOUND', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    const grpcInvalid = Object.assign(new Error('3 INVALID_ARGUMENT: bad'), { code: 3, details: 'bad' });
    const grpcNotFound = Object.assign(new Error('5 NOT_FOUND: nope'), { code: 5, details: 'nope' });
    for (const e of [grpcInvalid, grpcNotFound, new ServiceError(ServiceErrorCode.BAD_REQUEST, 'x')]) {
      await expect(
        breaker.execute(() => {
          throw e;
        }),
      ).rejects.toBe(e);
    }
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.CLOSED,
      totalIgnored: 3,
      totalFailures: 0,
    });
    const grpcUnavailable = Object.assign(new Error('14 UNAVAILABLE'), { code: 14, details: 'x' });
    await expect(breaker.execute(() => Promise.reject(grpcUnavailable))).rejects.toBe(grpcUnavailable);
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('uses a custom isFailure', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, isFailure: (e) => e.code === 'NOT_FOUND' });
    await expect(breaker.execute(fail)).rejects.toThrow();
    expect(breaker.state).toBe(CircuitState.CLOSED);
    await expect(
      breaker.execute(() => Promise.reject(new ServiceError(ServiceErrorCode.NOT_FOUND, 'x'))),
    ).rejects.toThrow();
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('ignores results of calls admitted before a state change', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, successThreshold: 1, resetTimeoutMs: 10 });
    let failLate!: (e: unknown) => void;
    const late = breaker.execute(
      () =>
        new Promise((_, reject) => {
          failLate = reject;
        }),
    );
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    vi.advanceTimersByTime(10);
    await breaker.execute(ok); // probe closes it
    expect(breaker.state).toBe(CircuitState.CLOSED);
    failLate(unavailable());
    await expect(late).rejects.toThrow();
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.CLOSED,
      failureCount: 0,
      totalFailures: 3,
    });
  });

  it('times calls out through the signal and counts the timeout as a failure', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1, timeout: 100, clock: globalTimersClock() });
    const timeouts: number[] = [];
    breaker.on('timeout', (e) => timeouts.push(e.durationMs));
    let seen: AbortSignal | undefined;
    const call = breaker.execute(({ signal }) => {
      seen = signal;
      return new Promise(() => {});
    });
    const settled = rejection(call);
    await vi.advanceTimersByTimeAsync(99);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await settled;
    expect(error.code).toBe(ServiceErrorCode.TIMEOUT);
    expect(error.retryable).toBe(true);
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
    expect(timeouts).toEqual([100]);
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.OPEN, totalTimeouts: 1 });
    await vi.advanceTimersByTimeAsync(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('rejects an aborted call without running it, and a running one at once; only a TIMEOUT reason counts', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, clock: globalTimersClock() });
    const fn = vi.fn(ok);
    const error = await rejection(breaker.execute(fn, AbortSignal.abort()));
    expect(error.code).toBe(ServiceErrorCode.CANCELLED);
    expect(fn).not.toHaveBeenCalled();
    const controller = new AbortController();
    const running = rejection(breaker.execute(() => new Promise(() => {}), controller.signal));
    controller.abort(new ServiceError(ServiceErrorCode.TIMEOUT, 'caller deadline'));
    expect((await running).message).toBe('caller deadline');
    const c2 = new AbortController();
    const running2 = rejection(breaker.execute(() => new Promise(() => {}), c2.signal));
    c2.abort();
    expect((await running2).code).toBe(ServiceErrorCode.CANCELLED);
    expect(breaker.getStats()).toMatchObject({
      state: CircuitState.CLOSED,
      failureCount: 1,
      totalFailures: 1,
      totalIgnored: 1,
    });
  });

  it('opens on a failure rate over a count window once minimumCalls is reached', async () => {
    const breaker = new CircuitBreaker({
      slidingWindow: { type: 'count', size: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 4,
    });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow(); // 3 calls: below minimumCalls
    expect(breaker.state).toBe(CircuitState.CLOSED);
    await breaker.execute(ok); // 3/4 failed
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('forgets failures older than a time window', async () => {
    const breaker = new CircuitBreaker({
      slidingWindow: { type: 'time', sizeMs: 1000, buckets: 10 },
      failureRateThreshold: 0.5,
      minimumCalls: 3,
    });
    await expect(breaker.execute(fail)).rejects.toThrow();
    await expect(breaker.execute(fail)).rejects.toThrow();
    vi.advanceTimersByTime(1100);
    await breaker.execute(ok);
    await breaker.execute(ok);
    await expect(breaker.execute(fail)).rejects.toThrow(); // 1 of 3 in the window
    expect(breaker.getStats()).toMatchObject({ state: CircuitState.CLOSED, windowCalls: 3, failureCount: 1 });
    await expect(breaker.execute(fail)).rejects.toThrow(); // 2 of 4
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('opens on slow calls', async () => {
    const breaker = new CircuitBreaker({
      slidingWindow: { type: 'count', size: 4 },
      minimumCalls: 2,
      slowCallDurationMs: 50,
      slowCallRateThreshold: 1,
      clock: globalTimersClock(),
    });
    const slow = () => new Promise((r) => setTimeout(() => r('slow'), 60));
    const a = breaker.execute(slow);
    await vi.advanceTimersByTimeAsync(60);
    await a;
    expect(breaker.state).toBe(CircuitState.CLOSED);
    const b = breaker.execute(slow);
    await vi.advanceTimersByTimeAsync(60);
    await b;
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('isolates until reset, and restores from toJSON', async () => {
    const breaker = new CircuitBreaker({ resetTimeoutMs: 10 });
    breaker.isolate();
    vi.advanceTimersByTime(1_000_000);
    const error = await rejection(breaker.execute(ok));
    expect(error.message).toContain('isolated');
    expect(breaker.toJSON()).toMatchObject({ state: 'OPEN', isolated: true });
    const restored = new CircuitBreaker({ resetTimeoutMs: 10, initialState: breaker.toJSON() });
    await expect(restored.execute(ok)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    breaker.reset();
    expect(await breaker.execute(ok)).toBe('ok');

    const open = new CircuitBreaker({ resetTimeoutMs: 100, failureThreshold: 1 });
    await expect(open.execute(fail)).rejects.toThrow();
    const snapshot = JSON.parse(JSON.stringify(open));
    expect(snapshot).toEqual({ state: 'OPEN', isolated: false, openedAt: Date.now(), failureCount: 0 });
    const again = new CircuitBreaker({ resetTimeoutMs: 100, initialState: snapshot });
    vi.advanceTimersByTime(99);
    expect(again.state).toBe(CircuitState.OPEN);
    vi.advanceTimersByTime(1);
    expect(again.state).toBe(CircuitState.HALF_OPEN);
    expect(new CircuitBreaker({ initialState: CircuitState.OPEN }).state).toBe(CircuitState.OPEN);
  });

  it('reports durations to success and failure listeners', async () => {
    const breaker = new CircuitBreaker({ clock: globalTimersClock() });
    const durations: number[] = [];
    const off = breaker.on('success', (e) => durations.push(e.durationMs));
    const call = breaker.execute(() => new Promise((r) => setTimeout(r, 25)));
    await vi.advanceTimersByTimeAsync(25);
    await call;
    off();
    await breaker.execute(ok);
    expect(durations).toEqual([25]);
  });

  it('handles synchronous operations', async () => {
    const breaker = new CircuitBreaker({ failureThreshold: 1 });
    expect(await breaker.execute(() => 42)).toBe(42);
    await expect(
      breaker.execute(() => {
        throw unavailable();
      }),
    ).rejects.toThrow('down');
    expect(breaker.state).toBe(CircuitState.OPEN);
  });

  it('validates options with messages naming the field and the value', () => {
    expect(() => new CircuitBreaker({ failureThreshold: -1 })).toThrow(
      'CircuitBreaker: failureThreshold must be a positive integer, got -1',
    );
    expect(() => new CircuitBreaker({ failureRateThreshold: 1.5 })).toThrow(
      'failureRateThreshold must be a number greater than 0 and at most 1, got 1.5',
    );
    expect(() => new CircuitBreaker({ resetTimeout: 5 } as never)).toThrow("unknown option 'resetTimeout'");
    try {
      new CircuitBreaker({ successThreshold: 0 });
    } catch (e) {
      expect(isServiceError(e, ServiceErrorCode.BAD_REQUEST)).toBe(true);
    }
  });

  /**
   * The breaker against a reference model: random sequences of successes, failures, ignored
   * errors and clock advances, each call awaited, compared step by step.
   */
  it('matches a reference model (fast-check)', async () => {
    type Cmd = { kind: 'ok' } | { kind: 'fail' } | { kind: 'ignored' } | { kind: 'wait'; ms: number };
    const cmd = fc.oneof(
      fc.constant<Cmd>({ kind: 'ok' }),
      fc.constant<Cmd>({ kind: 'fail' }),
      fc.constant<Cmd>({ kind: 'ignored' }),
      fc.integer({ min: 1, max: 150 }).map<Cmd>((ms) => ({ kind: 'wait', ms })),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 3 }),
        fc.integer({ min: 1, max: 100 }),
        fc.array(cmd, { maxLength: 60 }),
        async (failureThreshold, successThreshold, resetTimeoutMs, cmds) => {
          let now = 0;
          const clock: Clock = { now: () => now, setTimeout: () => 0, clearTimeout: () => {} };
          const breaker = new CircuitBreaker({ failureThreshold, successThreshold, resetTimeoutMs, clock });
          // The model.
          let state: CircuitState = CircuitState.CLOSED;
          let failures = 0;
          let successes = 0;
          let openedAt = 0;
          for (const c of cmds) {
            if (c.kind === 'wait') {
              now += c.ms;
              continue;
            }
            if (state === CircuitState.OPEN && now >= openedAt + resetTimeoutMs) {
              state = CircuitState.HALF_OPEN;
              successes = 0;
            }
            let ran = false;
            const outcome = breaker.execute(() => {
              ran = true;
              if (c.kind === 'ok') return 'ok';
              throw new ServiceError(
                c.kind === 'fail' ? ServiceErrorCode.INTERNAL_ERROR : ServiceErrorCode.NOT_FOUND,
                c.kind,
              );
            });
            const result = await outcome.then(
              () => 'ok',
              (e: ServiceError) => e.code,
            );
            if (state === CircuitState.OPEN) {
              expect(ran).toBe(false);
              expect(result).toBe(ServiceErrorCode.CIRCUIT_OPEN);
            } else {
              expect(ran).toBe(true);
              if (c.kind === 'fail') {
                if (state === CircuitState.HALF_OPEN || ++failures >= failureThreshold) {
                  state = CircuitState.OPEN;
                  openedAt = now;
                  failures = 0;
                }
              } else if (c.kind === 'ok') {
                if (state === CircuitState.CLOSED) failures = 0;
                else if (++successes >= successThreshold) {
                  state = CircuitState.CLOSED;
                  failures = 0;
                }
              }
            }
            const stats = breaker.getStats();
            expect(stats.state).toBe(
              state === CircuitState.OPEN && now >= openedAt + resetTimeoutMs
                ? CircuitState.HALF_OPEN
                : state,
            );
            if (stats.state === CircuitState.HALF_OPEN && state === CircuitState.OPEN) {
              state = CircuitState.HALF_OPEN; // reading the state moved it, as a call would
              successes = 0;
            }
            if (state === CircuitState.CLOSED) expect(stats.failureCount).toBe(failures);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
