import { AsyncLocalStorage } from 'node:async_hooks';
import { noopLogger, systemClock } from '@clone/service-errors';
import { type PostgresServer, startPostgres } from '@clone/test-servers';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEventBus, defineEvent, EventBuilder, type EventBus, PostgresOutbox } from '../src/index';
import { MemoryTransport } from '../src/memory-transport';
import { waitUntil } from './wait';

/**
 * The outbox against a real PostgreSQL. The relay publishes through a bus; the in-memory one is
 * enough here (a publish resolves on the same terms on every transport: the contract suite).
 */
const OrderCreated = defineEvent('order.created', z.object({ orderId: z.string() }));

/** A transport whose publishes fail while `down` is set: a broker that refuses confirms. */
class FlakyTransport extends MemoryTransport {
  down = false;
  override async publish(routingKey: string, body: string): Promise<void> {
    if (this.down) throw new Error('no confirm');
    return super.publish(routingKey, body);
  }
}

let server: PostgresServer;
let pool: pg.Pool;
let n = 0;
const cleanup: (() => Promise<void>)[] = [];

beforeAll(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.connectionString, max: 4 });
});

afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

async function setup() {
  const transport = new FlakyTransport({ clock: systemClock, logger: noopLogger });
  const bus = createEventBus({ serviceName: `orders-${++n}`, events: [OrderCreated], transport });
  const outbox = new PostgresOutbox({ pool, bus, table: `outbox_${n}`, pollIntervalMs: 20 });
  await outbox.migrate();
  await pool.query(`CREATE TABLE orders_${n} (id text PRIMARY KEY)`);
  const handled: string[] = [];
  await bus.subscribe(OrderCreated, (e) => void handled.push(e.data.orderId));
  cleanup.push(async () => {
    await outbox.stop();
    await bus.close();
  });
  /** Inserts an order and its event in one transaction; `fail` rolls it back after both. */
  const placeOrder = async (orderId: string, fail = false): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await client.query(`INSERT INTO orders_${n} (id) VALUES ($1)`, [orderId]);
      await outbox.add(client, OrderCreated.create({ orderId }, 'orders'));
      if (fail) throw new Error('payment declined');
      await client.query('COMMIT');
    } catch (error) {
      await client.query('ROLLBACK');
      throw error;
    } finally {
      client.release();
    }
  };
  return { bus, outbox, transport, handled, placeOrder, table: `outbox_${n}` };
}

describe('PostgresOutbox', () => {
  it('publishes an event committed with the service rows, and marks it sent', async () => {
    const { outbox, handled, placeOrder, table } = await setup();
    await placeOrder('o-1');
    expect(await outbox.pending()).toBe(1);
    expect(await outbox.relay()).toBe(1);
    await waitUntil(() => handled.length === 1, 'the event');
    expect(handled).toEqual(['o-1']);
    expect(await outbox.pending()).toBe(0);
    const { rows } = await pool.query(`SELECT sent_at FROM ${table}`);
    expect(rows[0].sent_at).toBeInstanceOf(Date);
    expect(await outbox.relay()).toBe(0);
  });

  it('carries the context of the transaction that added the event, not the relay', async () => {
    const { bus, outbox, handled, placeOrder } = await setup();
    const storage = new AsyncLocalStorage<string>();
    const asked: string[] = [];
    const received: Array<Readonly<Record<string, string>>> = [];
    bus.useContextPropagation({
      publish(headers, event, send) {
        asked.push(event.type);
        headers.traceparent = storage.getStore() ?? 'none';
        return send();
      },
      consume(headers, _event, _queue, handle) {
        received.push(headers);
        return handle();
      },
    });
    await storage.run('placing-order', () => placeOrder('o-t'));
    expect(asked).toEqual(['order.created']);
    await storage.run('relay', () => outbox.relay());
    await waitUntil(() => handled.length === 1, 'the event');
    // The relay's publish keeps the stamped headers and asks the hook nothing more.
    expect(asked).toEqual(['order.created']);
    expect(received).toEqual([{ traceparent: 'placing-order' }]);
  });

  it('publishes nothing for a transaction that rolled back', async () => {
    const { outbox, handled, placeOrder } = await setup();
    await expect(placeOrder('o-2', true)).rejects.toThrow('payment declined');
    expect(await outbox.pending()).toBe(0);
    expect(await outbox.relay()).toBe(0);
    expect(handled).toEqual([]);
  });

  it('keeps a row whose publish was not confirmed, and publishes it on a later round', async () => {
    const { outbox, transport, handled, placeOrder } = await setup();
    await placeOrder('o-3');
    transport.down = true;
    await expect(outbox.relay()).rejects.toThrow();
    expect(await outbox.pending()).toBe(1);
    expect(handled).toEqual([]);
    transport.down = false;
    expect(await outbox.relay()).toBe(1);
    await waitUntil(() => handled.length === 1, 'the event after the broker came back');
    expect(await outbox.pending()).toBe(0);
  });

  it('relays by itself once started, reporting failed rounds, and stops', async () => {
    const { outbox, transport, handled, placeOrder } = await setup();
    const errors: Error[] = [];
    outbox.on('error', (e) => errors.push(e));
    transport.down = true;
    outbox.start();
    await placeOrder('o-4');
    await placeOrder('o-5');
    await waitUntil(() => errors.length > 0, 'a failed round');
    transport.down = false;
    await waitUntil(() => handled.length === 2, 'both events');
    expect(handled.sort()).toEqual(['o-4', 'o-5']);
    await outbox.stop();
    expect(await outbox.pending()).toBe(0);
  });

  it('never publishes a row twice from relays running at once', async () => {
    const { outbox, handled, placeOrder, bus } = await setup();
    for (let i = 0; i < 20; i++) await placeOrder(`c-${i}`);
    const sent = await Promise.all([outbox.relay(), outbox.relay(), outbox.relay()]);
    expect(sent.reduce((a, b) => a + b, 0)).toBe(20);
    await waitUntil(() => handled.length === 20, 'twenty events');
    expect(bus.getStats()).toMatchObject({ publishedEvents: 20, duplicateEvents: 0 });
  });

  it('refuses a bad event with BAD_REQUEST naming the field, storing nothing', async () => {
    const { outbox } = await setup();
    const bad = EventBuilder.create('order.created', { data: { orderId: 7 } }, 'orders');
    await expect(outbox.add(pool, bad)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      metadata: { field: 'data.orderId' },
    });
    expect(await outbox.pending()).toBe(0);
  });

  it('refuses bad options with BAD_REQUEST naming the field', () => {
    const bus: EventBus = createEventBus({ serviceName: 'x' });
    const make = (options: object) => () => new PostgresOutbox({ pool, bus, ...options });
    expect(make({ table: 'drop table; --' })).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST', metadata: expect.objectContaining({ field: 'table' }) }),
    );
    expect(make({ batchSize: 0 })).toThrow(
      expect.objectContaining({ metadata: expect.objectContaining({ field: 'batchSize' }) }),
    );
    expect(make({ bus: {} })).toThrow(
      expect.objectContaining({ metadata: expect.objectContaining({ field: 'bus' }) }),
    );
  });
});
