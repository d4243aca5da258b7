import { describe, expect, it, vi } from 'vitest';
import { Bulkhead } from './bulkhead';
import { ServiceErrorCode } from './error-code';
import { isServiceError } from './service-error';

function deferred<T = void>() {
  let resolve!: (v: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

describe('Bulkhead', () => {
  it('runs at most maxConcurrent, queues up to maxQueue in order, rejects the rest', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 2, maxQueue: 2, service: 'llm' });
    const gates = Array.from({ length: 4 }, () => deferred());
    const started: number[] = [];
    const calls = gates.map((g, i) =>
      bulkhead.execute(async () => {
        started.push(i);
        await g.promise;
        return i;
      }),
    );
    const rejectedEvents: number[] = [];
    bulkhead.on('rejected', (e) => rejectedEvents.push(e.queued));
    const fifth = bulkhead.execute(async () => 5);
    await expect(fifth).rejects.toSatisfy((e) => isServiceError(e, ServiceErrorCode.BULKHEAD_FULL));
    await expect(fifth).rejects.toMatchObject({ retryable: false, service: 'llm' });
    expect(rejectedEvents).toEqual([2]);
    await Promise.resolve();
    expect(started).toEqual([0, 1]);
    expect(bulkhead.getStats()).toMatchObject({ active: 2, queued: 2, executionSlots: 0, queueSlots: 0 });
    gates[1]!.resolve();
    await calls[1];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    for (const g of gates) g.resolve();
    expect(await Promise.all(calls)).toEqual([0, 1, 2, 3]);
    expect(bulkhead.getStats()).toMatchObject({ active: 0, queued: 0, totalRejections: 1 });
  });

  it('frees the slot when the operation throws', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1 });
    await expect(bulkhead.execute(() => Promise.reject(new Error('x')))).rejects.toThrow('x');
    await expect(
      bulkhead.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    expect(await bulkhead.execute(async () => 'ok')).toBe('ok');
  });

  it('drops a waiting call whose signal aborts, and never runs it', async () => {
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const gate = deferred();
    const first = bulkhead.execute(() => gate.promise);
    const controller = new AbortController();
    const fn = vi.fn(async () => 'late');
    const waiting = bulkhead.execute(fn, controller.signal);
    expect(bulkhead.getStats().queued).toBe(1);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'CANCELLED' });
    expect(bulkhead.getStats().queued).toBe(0);
    gate.resolve();
    await first;
    await Promise.resolve();
    expect(fn).not.toHaveBeenCalled();
    await expect(bulkhead.execute(fn, AbortSignal.abort())).rejects.toMatchObject({ code: 'CANCELLED' });
  });

  it('validates options', () => {
    expect(() => new Bulkhead({ maxConcurrent: 0 })).toThrow(
      'Bulkhead: maxConcurrent must be a positive integer, got 0',
    );
    expect(() => new Bulkhead({ maxConcurrent: 1, maxQueue: -1 })).toThrow(
      'maxQueue must be a non-negative integer, got -1',
    );
  });
});
