import { AsyncLocalStorage } from 'node:async_hooks';
import { describe, expect, it } from 'vitest';
import type { ContextPropagation, PropagationHeaders } from './context-propagation';
import { createEventBus } from './create-event-bus';
import type { EventEnvelope } from './event';
import { EventBuilder } from './event-builder';

/**
 * A propagation hook over an AsyncLocalStorage, as a tracer would use its context: publish writes
 * the current value as a header, consume runs the handler with the header's value as current.
 */
function storageHook() {
  const storage = new AsyncLocalStorage<string>();
  const published: EventEnvelope[] = [];
  const consumed: Array<{ headers: Readonly<PropagationHeaders>; queue: string }> = [];
  const hook: ContextPropagation = {
    publish(headers, event, send) {
      published.push(event);
      const value = storage.getStore();
      if (value !== undefined) headers.traceparent = value;
      return send();
    },
    consume(headers, _event, queue, handle) {
      consumed.push({ headers, queue });
      return storage.run(`${headers.traceparent ?? 'none'}>consumer`, handle);
    },
  };
  return { storage, hook, published, consumed };
}

const event = (data: unknown = {}) => EventBuilder.create('order.created', { data }, 'orders');

/** Subscribes a handler recording the metadata and the storage value it ran with. */
async function setup() {
  const bus = createEventBus({ serviceName: 'svc', retryDelayMs: 1 });
  const h = storageHook();
  const seen: Array<{ metadata: unknown; current: string | undefined }> = [];
  let failuresLeft = 0;
  let notify: () => void = () => {};
  await bus.subscribe('order.created', (e) => {
    seen.push({ metadata: e.metadata, current: h.storage.getStore() });
    notify();
    if (failuresLeft > 0) {
      failuresLeft--;
      throw new Error('not yet');
    }
  });
  const handled = (count: number) =>
    new Promise<void>((resolve) => {
      notify = () => {
        if (seen.length >= count) resolve();
      };
    });
  return {
    bus,
    ...h,
    seen,
    handled,
    failFirst: (n: number) => {
      failuresLeft = n;
    },
  };
}

describe('EventBus.useContextPropagation', () => {
  it('writes the hook headers into the envelope and runs the handler inside consume', async () => {
    const { bus, hook, storage, seen, consumed, handled } = await setup();
    bus.useContextPropagation(hook);
    const done = handled(1);
    const sent = event({ n: 1 });
    await storage.run('00-trace-a', () => bus.publish(sent));
    await done;
    expect(seen).toEqual([
      { metadata: { traceHeaders: { traceparent: '00-trace-a' } }, current: '00-trace-a>consumer' },
    ]);
    expect(consumed).toEqual([
      { headers: { traceparent: '00-trace-a' }, queue: expect.stringContaining('svc') },
    ]);
    // The caller's envelope is not changed.
    expect(sent.metadata).toBeUndefined();
    await bus.close();
  });

  it('keeps the headers through retries', async () => {
    const { bus, hook, storage, seen, handled, failFirst } = await setup();
    bus.useContextPropagation(hook);
    failFirst(2);
    const done = handled(3);
    await storage.run('00-trace-b', () => bus.publish(event()));
    await done;
    expect(seen.map((s) => s.current)).toEqual([
      '00-trace-b>consumer',
      '00-trace-b>consumer',
      '00-trace-b>consumer',
    ]);
    await bus.close();
  });

  it('keeps the headers in a dead letter and through its replay', async () => {
    const bus = createEventBus({ serviceName: 'svc', retryAttempts: 0 });
    const h = storageHook();
    bus.useContextPropagation(h.hook);
    const runs: Array<string | undefined> = [];
    let fail = true;
    await bus.subscribe('order.created', () => {
      runs.push(h.storage.getStore());
      if (fail) throw new Error('broken');
    });
    await h.storage.run('00-trace-d', () => bus.publish(event()));
    while ((await bus.getDeadLetterQueue()).length === 0) await new Promise((r) => setTimeout(r, 5));
    const [dead] = await bus.getDeadLetterQueue();
    expect(dead?.event?.metadata).toEqual({ traceHeaders: { traceparent: '00-trace-d' } });
    fail = false;
    expect(await bus.replayDeadLetters()).toBe(1);
    while (runs.length < 2) await new Promise((r) => setTimeout(r, 5));
    expect(runs).toEqual(['00-trace-d>consumer', '00-trace-d>consumer']);
    await bus.close();
  });

  it('keeps headers an event already carries (an outbox row) without asking the hook', async () => {
    const { bus, hook, published, seen, handled } = await setup();
    bus.useContextPropagation(hook);
    const done = handled(1);
    await bus.publish(
      EventBuilder.create(
        'order.created',
        { data: {}, metadata: { traceHeaders: { traceparent: 'kept' } } },
        'o',
      ),
    );
    await done;
    expect(published).toEqual([]);
    expect(seen[0]?.current).toBe('kept>consumer');
    await bus.close();
  });

  it('hands consume only the text headers of a received event', async () => {
    const { bus, hook, consumed, handled } = await setup();
    bus.useContextPropagation(hook);
    const done = handled(1);
    await bus.publish(
      EventBuilder.create(
        'order.created',
        { data: {}, metadata: { traceHeaders: { traceparent: 'x', baggage: 7 } } },
        'o',
      ),
    );
    await done;
    expect(consumed.map((c) => c.headers)).toEqual([{ traceparent: 'x' }]);
    await bus.close();
  });

  it('is removed by the function it returns, and replaced by the next hook', async () => {
    const { bus, hook, storage, seen, handled, published, consumed } = await setup();
    const remove = bus.useContextPropagation(hook);
    remove();
    let done = handled(1);
    await storage.run('00-trace-c', () => bus.publish(event()));
    await done;
    expect(seen[0]?.metadata).toBeUndefined();
    expect(published).toEqual([]);
    expect(consumed).toEqual([]);

    const other = storageHook();
    const removeFirst = bus.useContextPropagation(hook);
    bus.useContextPropagation(other.hook);
    removeFirst(); // replaced already: removes nothing
    done = handled(2);
    await bus.publish(event());
    await done;
    expect(published).toEqual([]);
    expect(other.published).toHaveLength(1);
    expect(other.consumed).toHaveLength(1);
    await bus.close();
  });

  it.each([[undefined], [null], [{}], [{ publish() {} }], [{ publish: 1, consume() {} }]])(
    'refuses %j with BAD_REQUEST naming hook',
    (hook) => {
      const bus = createEventBus({ serviceName: 'svc' });
      expect(() => bus.useContextPropagation(hook as never)).toThrow(
        expect.objectContaining({
          code: 'BAD_REQUEST',
          metadata: expect.objectContaining({ field: 'hook' }),
        }),
      );
    },
  );
});
