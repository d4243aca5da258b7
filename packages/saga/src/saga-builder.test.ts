import { isServiceError, RetryPolicy, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { retryTimes } from '../test/retry-times';
import { createSaga } from './saga-builder';

/** A step name a plain object would turn into a prototype change. */
const PROTO: string = '__proto__';

afterEach(() => {
  vi.useRealTimers();
});

describe('createSaga', () => {
  it('runs the steps in order on a shared context and reports their results', async () => {
    const log: string[] = [];
    const result = await createSaga({ n: 1 } as { n: number; doubled?: number })
      .step('double', (ctx) => {
        log.push('double');
        ctx.doubled = ctx.n * 2;
        return ctx.doubled;
      })
      .step('print', (ctx) => {
        log.push(`print ${ctx.doubled}`);
      })
      .execute();
    expect(result.success).toBe(true);
    expect(result.completedSteps).toEqual(['double', 'print']);
    expect(result.results).toEqual({ double: 2, print: undefined });
    expect(result.failedStep).toBeUndefined();
    expect(result.error).toBeUndefined();
    expect(result.compensatedSteps).toEqual([]);
    expect(log).toEqual(['double', 'print 2']);
    expect(result.sagaId).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('compensates the completed steps in reverse order, not the failed one, and resolves', async () => {
    const log: string[] = [];
    const result = await createSaga({})
      .step(
        'a',
        () => 'A',
        (_ctx, step) => void log.push(`undo a ${String(step.result)}`),
      )
      .step(
        'b',
        () => 'B',
        () => void log.push('undo b'),
      )
      .step(
        'c',
        () => {
          throw new ServiceError(ServiceErrorCode.LLM_FAILED, 'model down');
        },
        () => void log.push('undo c'),
      )
      .step('d', () => log.push('d ran'))
      .execute();
    expect(result.success).toBe(false);
    expect(result.failedStep).toBe('c');
    expect(result.error?.code).toBe(ServiceErrorCode.LLM_FAILED);
    expect(result.completedSteps).toEqual(['a', 'b']);
    expect(result.compensatedSteps).toEqual(['b', 'a']);
    expect(log).toEqual(['undo b', 'undo a A']);
  });

  it('compensates the failed step first when asked', async () => {
    const log: string[] = [];
    const result = await createSaga({})
      .step(
        'a',
        () => 1,
        () => void log.push('undo a'),
      )
      .step(
        'b',
        () => {
          throw new Error('half done');
        },
        (_ctx, step) => void log.push(`undo b failed=${step.failed}`),
        { compensateOnFailure: true },
      )
      .execute();
    expect(result.error).toBeInstanceOf(ServiceError);
    expect(result.error?.message).toBe('half done');
    expect(result.compensatedSteps).toEqual(['b', 'a']);
    expect(log).toEqual(['undo b failed=true', 'undo a']);
  });

  it('retries a failing compensation, records it when it keeps failing, and still runs the others', async () => {
    const attempts: number[] = [];
    const result = await createSaga({}, { compensationRetry: retryTimes(3) })
      .step(
        'a',
        () => 1,
        () => void attempts.push(0),
      )
      .step(
        'b',
        () => 2,
        (_ctx, step) => {
          attempts.push(step.attempt);
          throw new Error('cannot undo b');
        },
      )
      .step('c', () => {
        throw new Error('boom');
      })
      .execute();
    expect(attempts).toEqual([1, 2, 3, 0]);
    expect(result.compensatedSteps).toEqual(['a']);
    expect(result.compensationErrors).toHaveLength(1);
    expect(result.compensationErrors[0]!.step).toBe('b');
    expect(result.compensationErrors[0]!.error.message).toBe('cannot undo b');
  });

  it('a compensation that fails once succeeds on retry', async () => {
    let calls = 0;
    const result = await createSaga({}, { compensationRetry: retryTimes(3) })
      .step(
        'a',
        () => 1,
        () => {
          if (++calls === 1) throw new Error('flaky');
        },
      )
      .step('b', () => Promise.reject(new Error('x')))
      .execute();
    expect(calls).toBe(2);
    expect(result.compensatedSteps).toEqual(['a']);
    expect(result.compensationErrors).toEqual([]);
  });

  it('retries a step with its retry policy, keeping the idempotency key', async () => {
    const seen: Array<[number, string]> = [];
    const result = await createSaga({}, { sagaId: 'saga-1' })
      .step(
        'flaky',
        (_ctx, step) => {
          seen.push([step.attempt, step.idempotencyKey]);
          if (step.attempt < 3) throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'busy');
          return 'ok';
        },
        undefined,
        { retry: retryTimes(5) },
      )
      .execute();
    expect(result.success).toBe(true);
    expect(result.sagaId).toBe('saga-1');
    expect(seen).toEqual([
      [1, 'saga-1:flaky'],
      [2, 'saga-1:flaky'],
      [3, 'saga-1:flaky'],
    ]);
  });

  it('times a step out: its signal aborts and the saga compensates without waiting for it', async () => {
    vi.useFakeTimers();
    let aborted: unknown;
    const undone: string[] = [];
    const pending = createSaga({})
      .step(
        'a',
        () => 1,
        () => void undone.push('a'),
      )
      .step(
        'slow',
        (_ctx, step) =>
          new Promise(() => {
            step.signal.addEventListener('abort', () => {
              aborted = step.signal.reason;
            });
          }),
        undefined,
        { timeout: 1_000 },
      )
      .execute();
    await vi.advanceTimersByTimeAsync(999);
    expect(aborted).toBeUndefined();
    await vi.advanceTimersByTimeAsync(1);
    const result = await pending;
    expect(isServiceError(aborted, ServiceErrorCode.TIMEOUT)).toBe(true);
    expect(result.failedStep).toBe('slow');
    expect(result.error?.code).toBe(ServiceErrorCode.TIMEOUT);
    expect(undone).toEqual(['a']);
  });

  it('stops when the caller aborts, inside a step or between steps, and compensates what completed', async () => {
    const inside = new AbortController();
    const undone: string[] = [];
    const first = await createSaga({})
      .step(
        'a',
        () => 1,
        () => void undone.push('a'),
      )
      .step(
        'b',
        () => {
          inside.abort();
          return new Promise(() => {});
        },
        () => void undone.push('b'),
      )
      .execute({ signal: inside.signal });
    expect(first.completedSteps).toEqual(['a']);
    expect(first.failedStep).toBe('b');
    expect(first.error?.code).toBe(ServiceErrorCode.CANCELLED);
    expect(undone).toEqual(['a']);

    const between = new AbortController();
    let cRan = false;
    const second = await createSaga({})
      .step('a', async () => {
        await Promise.resolve();
        between.abort();
        return 1;
      })
      .step('c', () => {
        cRan = true;
      })
      .execute({ signal: between.signal });
    expect(second.completedSteps).toEqual([]);
    expect(second.failedStep).toBe('a');
    expect(cRan).toBe(false);
  });

  it('rejects bad definitions at build time', () => {
    const saga = createSaga({}).step('a', () => 1);
    const fails = (fn: () => unknown, text: string): void => {
      try {
        fn();
        expect.unreachable();
      } catch (error) {
        expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
        expect((error as Error).message).toContain(text);
      }
    };
    fails(() => saga.step('a', () => 2), "duplicate step name 'a'");
    fails(() => saga.step('', () => 2), 'non-empty');
    fails(() => saga.step('x', 'nope' as never), 'action must be a function');
    fails(() => saga.step('y', () => 1, 42 as never), 'compensation must be a function');
    fails(() => saga.step('z', () => 1, undefined, { timeout: -5 }), 'timeout');
    fails(() => saga.step('w', () => 1, undefined, { retries: 3 } as never), "unknown option 'retries'");
    fails(() => createSaga({}, { sagaId: '' }), 'sagaId');
  });

  it('never rejects, even when a step throws a non-error', async () => {
    const result = await createSaga({})
      .step('a', () => {
        throw 'a string';
      })
      .execute();
    expect(result.success).toBe(false);
    expect(result.error).toBeInstanceOf(ServiceError);
    expect(result.error?.message).toBe('a string');
  });

  it("takes service-errors' RetryPolicy as a step's retry", async () => {
    let calls = 0;
    const result = await createSaga({})
      .step(
        'flaky',
        () => {
          if (++calls < 3) throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'busy');
          return calls;
        },
        undefined,
        { retry: new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0 }) },
      )
      .execute();
    expect(result.success).toBe(true);
    expect(result.results.flaky).toBe(3);
  });
  it('bounds step durations by what a timer holds, naming the step and the field', () => {
    // A timeout beyond 2^31-1 ms used to fire after 1 ms: every attempt timed out at once.
    for (const field of ['timeout', 'compensationTimeout'] as const) {
      try {
        createSaga({}).step('charge', () => 1, undefined, { [field]: 2 ** 31 });
        expect.unreachable();
      } catch (error) {
        expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST)).toBe(true);
        expect((error as Error).message).toContain(
          `createSaga: step 'charge': ${field} must be an integer number of milliseconds between 1 and 2147483647`,
        );
      }
    }
    expect(() => createSaga({}).step('ok', () => 1, undefined, { timeout: 2 ** 31 - 1 })).not.toThrow();
  });

  it("keeps the results of steps named '__proto__', 'constructor' and 'prototype'", async () => {
    const undone: string[] = [];
    const result = await createSaga({})
      .step(
        '__proto__',
        () => ({ polluted: true }),
        (_ctx, step) => void undone.push(`${step.step} ${JSON.stringify(step.result)}`),
      )
      .step('constructor', () => 'C')
      .step('prototype', () => 'P')
      .execute();
    expect(result.success).toBe(true);
    expect(Object.keys(result.results)).toEqual(['__proto__', 'constructor', 'prototype']);
    expect(result.results[PROTO]).toEqual({ polluted: true });
    expect(result.results.constructor).toBe('C');
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();

    const failed = await createSaga({})
      .step(
        '__proto__',
        () => ({ n: 1 }),
        (_ctx, step) => void undone.push(`${step.step} ${JSON.stringify(step.result)}`),
      )
      .step('boom', () => {
        throw new Error('boom');
      })
      .execute();
    expect(failed.compensatedSteps).toEqual(['__proto__']);
    expect(undone).toEqual(['__proto__ {"n":1}']);
  });

  it('makes saga ids with createId and checks clock and logger by shape', async () => {
    const result = await createSaga({}, { createId: () => 'fixed-id' })
      .step('a', (_ctx, step) => step.idempotencyKey)
      .execute();
    expect(result.sagaId).toBe('fixed-id');
    expect(result.results.a).toBe('fixed-id:a');
    expect(() => createSaga({}, { clock: { now: () => 0 } as never })).toThrow(/clock must be a Clock/);
    expect(() => createSaga({}, { logger: {} as never })).toThrow(/logger must be a Logger/);
  });
});
