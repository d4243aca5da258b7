import * as amqp from 'amqplib';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createEventBus, EventBuilder, type EventBus, type EventBusOptions } from '../src/index';
import { type ConsumerChild, startConsumerChild } from './child';
import { type RabbitMQServer, startRabbitMQ } from './rabbitmq-broker';
import { deferred, waitUntil } from './wait';

/**
 * What must hold with a real broker that fails: a private RabbitMQ is killed and restarted, and
 * consumer processes are killed mid-handler. Every wait polls for an outcome (with a hang guard);
 * nothing asserts a duration.
 */
// 10 000 as in the issue by default; CHAOS_EVENTS lowers it on a slow box.
const CHAOS_EVENTS = Number(process.env.CHAOS_EVENTS ?? 10_000);

let broker: RabbitMQServer;
let raw: amqp.ChannelModel;
const buses: EventBus[] = [];
const children: ConsumerChild[] = [];

beforeAll(async () => {
  broker = await startRabbitMQ();
  raw = await rawConnect();
});

afterEach(async () => {
  for (const child of children.splice(0)) child.process.kill('SIGKILL');
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

afterAll(async () => {
  await raw?.close().catch(() => {});
  await broker?.stop();
});

async function rawConnect(): Promise<amqp.ChannelModel> {
  const connection = await amqp.connect(broker.url);
  connection.on('error', () => {}); // the broker is killed on purpose
  return connection;
}

function bus(options: Omit<EventBusOptions, 'url'>): EventBus {
  // Reconnect attempts capped at 250 ms apart: a restarted broker is found soon after it is up.
  const made = createEventBus({ maxReconnectDelayMs: 250, ...options, url: broker.url });
  buses.push(made);
  return made;
}

async function messagesIn(queue: string): Promise<number> {
  const channel = await raw.createChannel();
  try {
    return (await channel.checkQueue(queue)).messageCount;
  } finally {
    await channel.close().catch(() => {});
  }
}

describe('RabbitMQ transport under failures', () => {
  it('buffers publishes while the broker is stopped, fails fast past maxBufferedPublishes, re-attaches consumers', async () => {
    const b = bus({
      exchange: 'buffer',
      serviceName: 'buffer',
      maxBufferedPublishes: 2,
      publishTimeoutMs: 600_000,
    });
    const seen: string[] = [];
    const states: string[] = [];
    b.on('disconnected', () => states.push('disconnected'));
    b.on('connected', () => states.push('connected'));
    await b.subscribe('buffer.#', (e) => void seen.push(e.id));
    // A clean stop here: RabbitMQ 3.10 may not recover a quorum queue declared a moment before a
    // crash (its consume times out after restart); the crash case is the next tests' SIGKILL.
    await broker.kill('SIGTERM');
    await waitUntil(() => !b.isConnected(), 'the bus to notice');
    const [e1, e2, e3] = [1, 2, 3].map((i) => EventBuilder.create('buffer.item', { data: { i } }, 'test'));
    const first = b.publish(e1!);
    const second = b.publish(e2!);
    await expect(b.publish(e3!)).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    await broker.start();
    raw = await rawConnect();
    await Promise.all([first, second]);
    await waitUntil(() => seen.length === 2, 'both buffered events consumed after the restart');
    expect(seen.sort()).toEqual([e1!.id, e2!.id].sort());
    expect(states.slice(0, 2)).toEqual(['connected', 'disconnected']);
    expect(states.at(-1)).toBe('connected');
  }, 300_000);

  it('declares its queue again and re-attaches the consumer when the queue is deleted under it', async () => {
    const b = bus({ exchange: 'redeclare', serviceName: 'redeclare' });
    const seen: string[] = [];
    // A reconnect is a 'connected' after a 'disconnected' (the first connect may be reported
    // before or after subscribe resolves).
    let lost = false;
    let reconnected = false;
    b.on('disconnected', () => {
      lost = true;
    });
    b.on('connected', () => {
      if (lost) reconnected = true;
    });
    await b.subscribe('thing.#', (e) => void seen.push(e.id));
    await broker.ctl(['delete_queue', 'redeclare.thing.#']);
    await waitUntil(() => reconnected, 'a reconnect');
    const event = EventBuilder.create('thing.done', { data: {} }, 'test');
    await b.publish(event);
    await waitUntil(() => seen.length === 1, 'the event on the re-declared queue');
    expect(seen).toEqual([event.id]);
  }, 120_000);

  it(`loses none of ${CHAOS_EVENTS} confirmed publishes when the broker is killed and restarted mid-stream, and handles each once`, async () => {
    const publisher = bus({ exchange: 'chaos', serviceName: 'chaos-pub', publishTimeoutMs: 600_000 });
    const consumer = bus({
      exchange: 'chaos',
      serviceName: 'chaos-sub',
      inboxCapacity: CHAOS_EVENTS * 2,
      // A setup the restarted broker never answers is abandoned and tried again.
      setupTimeoutMs: 20_000,
    });
    const handled = new Map<string, number>();
    await consumer.subscribe('chaos.#', (e) => void handled.set(e.id, (handled.get(e.id) ?? 0) + 1), {
      prefetch: 100,
    });
    await publisher.connect();
    // RabbitMQ 3.10 may not bring back a quorum queue declared a moment before the broker is
    // killed (its declare then never answers after the restart): let the queue's log settle first.
    // This waits on the broker, it asserts nothing about time.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    let disconnects = 0;
    publisher.on('disconnected', () => disconnects++);
    const ids: string[] = [];
    let next = 0;
    let confirmed = 0;
    let restart: Promise<void> | undefined;
    const killed = deferred();
    const worker = async (): Promise<void> => {
      for (;;) {
        // Past 30 %, no new publish starts before the broker is dead: the rest go out while it is
        // down (parked) or after it is back, whatever the speed of this machine.
        if (restart !== undefined) await killed.promise;
        // Checked after the wait: other workers took numbers meanwhile.
        if (next >= CHAOS_EVENTS) return;
        const event = EventBuilder.create('chaos.item', { data: { i: next } }, 'chaos-pub');
        ids[next++] = event.id;
        await publisher.publish(event);
        confirmed++;
        if (restart === undefined && confirmed >= CHAOS_EVENTS * 0.3) {
          restart = broker.kill('SIGKILL').then(async () => {
            killed.resolve();
            await broker.start();
            raw = await rawConnect();
          });
        }
      }
    };
    // 64 publishes in flight: the kill lands on unconfirmed ones, which must be sent again.
    await Promise.all(Array.from({ length: 64 }, worker));
    await restart;
    expect(confirmed).toBe(CHAOS_EVENTS);
    expect(disconnects).toBeGreaterThan(0);
    await waitUntil(() => handled.size === CHAOS_EVENTS, `all ${CHAOS_EVENTS} events consumed`, 600_000);
    expect(new Set(handled.keys())).toEqual(new Set(ids));
    expect([...handled.values()].every((n) => n === 1)).toBe(true);
    expect(consumer.getStats().totalEvents).toBe(CHAOS_EVENTS);
    // The figures quoted in docs/event-bus.md.
    console.info(
      `chaos: ${CHAOS_EVENTS} confirmed, ${handled.size} handled once, ${disconnects} disconnect(s), ` +
        `${consumer.getStats().duplicateEvents} duplicate(s) absorbed`,
    );
  }, 900_000);

  it('redelivers the event of a consumer killed with SIGKILL mid-handler, and it is handled once', async () => {
    const queue = 'worker.jobs';
    const env = {
      URL: broker.url,
      EXCHANGE: 'kill',
      SERVICE: 'worker',
      QUEUE: queue,
      MODE: 'hang',
      DELIVERY_LIMIT: '5',
    };
    const child = startConsumerChild(env);
    children.push(child);
    await waitUntil(() => child.lines.some((l) => l.ready), 'the consumer process', 120_000);
    const publisher = bus({ exchange: 'kill', serviceName: 'kill-pub' });
    const event = EventBuilder.create('chaos.job', { data: {} }, 'kill-pub');
    await publisher.publish(event);
    await waitUntil(() => child.lines.some((l) => l.handling === event.id), 'the child to start handling');
    child.process.kill('SIGKILL');
    await child.exited;
    // Another instance of the same service takes over the queue.
    const handled: string[] = [];
    const successor = bus({ exchange: 'kill', serviceName: 'worker' });
    await successor.subscribe('chaos.#', (e) => void handled.push(e.id), { queue, deliveryLimit: 5 });
    await waitUntil(() => handled.includes(event.id), 'the redelivery');
    // A marker behind it: once it is handled, no second copy of the event is on its way.
    const marker = EventBuilder.create('chaos.marker', { data: {} }, 'kill-pub');
    await publisher.publish(marker);
    await waitUntil(() => handled.includes(marker.id), 'the marker');
    expect(handled.filter((id) => id === event.id)).toHaveLength(1);
    expect(child.lines.filter((l) => l.finished !== undefined)).toEqual([]);
  }, 300_000);

  it('dead-letters a message that crashes its consumer process every time, after the delivery limit', async () => {
    const queue = 'fragile.jobs';
    const env = {
      URL: broker.url,
      EXCHANGE: 'poison',
      SERVICE: 'fragile',
      QUEUE: queue,
      MODE: 'crash',
      DELIVERY_LIMIT: '2',
    };
    const publisher = bus({ exchange: 'poison', serviceName: 'poison-pub' });
    const poison = EventBuilder.create('chaos.poison', { data: {} }, 'poison-pub');
    let crashes = 0;
    let lettered = false;
    // Each process takes the message and dies in the handler; the broker counts the deliveries.
    // It dead-letters the message a moment after the last crash, so a process started meanwhile
    // gets nothing: each round waits for its process to crash or for the dead letter, whichever
    // comes first.
    while (crashes < 10 && !lettered) {
      const child = startConsumerChild(env);
      children.push(child);
      if (crashes === 0) {
        await waitUntil(() => child.lines.some((l) => l.ready), 'the first consumer process', 120_000);
        await publisher.publish(poison);
      }
      let exited = false;
      void child.exited.then(() => {
        exited = true;
      });
      await waitUntil(
        async () => exited || (crashes > 0 && (await messagesIn(`${queue}.dead-letter`)) > 0),
        'a crash or the dead letter',
        300_000,
      );
      if (!exited) {
        lettered = true; // this process never got the message; afterEach ends it
        continue;
      }
      children.pop();
      expect(child.lines.some((l) => l.handling === poison.id)).toBe(true);
      crashes++;
      lettered = (await messagesIn(`${queue}.dead-letter`)) > 0;
    }
    expect(crashes).toBe(3);
    const handled: string[] = [];
    const fixed = bus({ exchange: 'poison', serviceName: 'fragile' });
    await fixed.subscribe('chaos.#', (e) => void handled.push(e.id), { queue, deliveryLimit: 2 });
    const letters = await fixed.getDeadLetterQueue();
    expect(letters).toHaveLength(1);
    expect(letters[0]).toMatchObject({
      id: poison.id,
      queue,
      routingKey: 'chaos.poison',
      reason: 'delivery-limit',
      error: { code: 'DELIVERY_LIMIT' },
    });
    expect(handled).toEqual([]);
  }, 600_000);
});
