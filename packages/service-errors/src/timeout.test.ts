import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ServiceErrorCode } from './error-code';
import { globalTimersClock, rejection } from './test-helpers';
import { Timeout } from './timeout';

const never = () => new Promise<never>(() => {});

describe('Timeout', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 5_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('rejects with a retryable TIMEOUT at the deadline, not before, and aborts the signal', async () => {
    const timeout = new Timeout({ timeoutMs: 250, service: 'tts', clock: globalTimersClock() });
    const events: number[] = [];
    timeout.on('timeout', (e) => events.push(e.timeoutMs));
    let signal: AbortSignal | undefined;
    let settled = false;
    const p = rejection(
      timeout.execute((ctx) => {
        signal = ctx.signal;
        return never();
      }),
    ).finally(() => {
      settled = true;
    });
    await vi.advanceTimersByTimeAsync(249);
    expect(settled).toBe(false);
    expect(signal!.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const error = await p;
    expect(error).toMatchObject({ code: ServiceErrorCode.TIMEOUT, retryable: true, service: 'tts' });
    expect(error.message).toBe('Operation timed out after 250 ms');
    expect(signal!.aborted).toBe(true);
    expect(signal!.reason).toBe(error);
    expect(events).toEqual([250]);
  });

  it('passes values and errors through, and leaves no timer once idle', async () => {
    const timeout = new Timeout({ timeoutMs: 1000, clock: globalTimersClock() });
    expect(await timeout.execute(async () => 'v')).toBe('v');
    expect(await timeout.execute(() => 'sync')).toBe('sync');
    const boom = new Error('boom');
    await expect(timeout.execute(() => Promise.reject(boom))).rejects.toBe(boom);
    await expect(
      timeout.execute(() => {
        throw boom;
      }),
    ).rejects.toBe(boom);
    await vi.advanceTimersByTimeAsync(5);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('expires concurrent calls in deadline order with one timer', async () => {
    const clock = globalTimersClock();
    const short = new Timeout({ timeoutMs: 100, clock });
    const long = new Timeout({ timeoutMs: 300, clock });
    const order: string[] = [];
    const track = (name: string, p: Promise<unknown>) =>
      p.catch(() => {
        order.push(`${name}@${Date.now() - 5_000_000}`);
      });
    const all = Promise.all([
      track('long', long.execute(never)),
      track('short', short.execute(never)),
      track(
        'fast',
        short.execute(async () => 'ok'),
      ),
    ]);
    await vi.advanceTimersByTimeAsync(50);
    track('mid', short.execute(never));
    expect(vi.getTimerCount()).toBeLessThanOrEqual(1);
    await vi.advanceTimersByTimeAsync(300);
    await all;
    expect(order).toEqual(['short@100', 'mid@150', 'long@300']);
  });

  it('stops waiting for a long deadline without ticking every millisecond', async () => {
    const timeout = new Timeout({ timeoutMs: 60_000, clock: globalTimersClock() });
    const p = rejection(timeout.execute(never));
    await vi.advanceTimersByTimeAsync(10);
    const spy = vi.spyOn(globalThis, 'setTimeout');
    await vi.advanceTimersByTimeAsync(59_990);
    expect(spy.mock.calls.length).toBeLessThan(5);
    spy.mockRestore();
    expect((await p).code).toBe(ServiceErrorCode.TIMEOUT);
  });

  it('rejects at once when the caller aborts, with the caller reason', async () => {
    const timeout = new Timeout({ timeoutMs: 1000, clock: globalTimersClock() });
    const controller = new AbortController();
    let signal: AbortSignal | undefined;
    const p = rejection(
      timeout.execute((ctx) => {
        signal = ctx.signal;
        return never();
      }, controller.signal),
    );
    controller.abort();
    const error = await p;
    expect(error.code).toBe(ServiceErrorCode.CANCELLED);
    expect(signal!.aborted).toBe(true);
    const fn = vi.fn(async () => 1);
    await expect(timeout.execute(fn, AbortSignal.abort())).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(fn).not.toHaveBeenCalled();
  });

  it('gives a lazily created signal the right state when read late', async () => {
    const timeout = new Timeout({ timeoutMs: 100, clock: globalTimersClock() });
    let ctx: { signal: AbortSignal } | undefined;
    const p = rejection(
      timeout.execute((c) => {
        ctx = c;
        return never();
      }),
    );
    await vi.advanceTimersByTimeAsync(100);
    await p;
    expect(ctx!.signal.aborted).toBe(true);
    let done: { signal: AbortSignal } | undefined;
    await timeout.execute(async (c) => {
      done = c;
    });
    expect(done!.signal.aborted).toBe(false);
  });

  it('honours an earlier outer deadline', async () => {
    const clock = globalTimersClock();
    const timeout = new Timeout({ timeoutMs: 1000, clock });
    let deadline = 0;
    const p = rejection(
      timeout.run(
        (ctx) => {
          deadline = ctx.deadline;
          return never();
        },
        { signal: new AbortController().signal, attempt: 1, deadline: Date.now() + 200 },
      ),
    );
    expect(deadline).toBe(Date.now() + 200);
    await vi.advanceTimersByTimeAsync(200);
    expect((await p).code).toBe(ServiceErrorCode.TIMEOUT);
  });

  it('validates options', () => {
    expect(() => new Timeout({ timeoutMs: 0 })).toThrow(
      'Timeout: timeoutMs must be an integer number of milliseconds between 1 and 2147483647 (about 24.8 days), got 0',
    );
    expect(() => new Timeout({} as never)).toThrow('timeoutMs is required');
    // A longer delay would fire after 1 ms in a Node timer.
    expect(() => new Timeout({ timeoutMs: 2 ** 31 })).toThrow(
      'Timeout: timeoutMs must be an integer number of milliseconds between 1 and 2147483647',
    );
    expect(new Timeout({ timeoutMs: 2 ** 31 - 1 }).timeoutMs).toBe(2 ** 31 - 1);
  });
});
