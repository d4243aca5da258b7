/**
 * `pnpm bench:events`: publish with confirms and consume with acks through a private RabbitMQ,
 * raw amqplib next to @clone/event-bus in the same run, and the in-memory bus next to node's
 * EventEmitter. Figures are medians per event.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import type * as Amqp from '../packages/event-bus/node_modules/amqplib';
// Relative until the root lists @clone/event-bus, amqplib and the launcher's export.
import { createEventBus, EventBuilder } from '../packages/event-bus/src/index';
import { startRabbitMQ } from '../tools/test-servers/src/rabbitmq';
import { measure, printTable, type Row, summarize } from './harness';

const amqp = createRequire(new URL('../packages/event-bus/package.json', import.meta.url))(
  'amqplib',
) as typeof Amqp;

const IN_FLIGHT = 256;
const CONSUME_EVENTS = 5_000;
const CONSUME_ROUNDS = 5;
const now = (): number => Number(process.hrtime.bigint());
const event = () => EventBuilder.create('bench.item', { data: { n: 1, text: 'x'.repeat(100) } }, 'bench');

async function main(): Promise<void> {
  const broker = await startRabbitMQ();
  try {
    const rows: Row[] = [];
    const connection = await amqp.connect(broker.url);
    const channel = await connection.createConfirmChannel();
    await channel.assertExchange('raw', 'topic', { durable: true });
    const body = Buffer.from(JSON.stringify(event()));
    const rawPublish = () =>
      new Promise<void>((resolve, reject) =>
        channel.publish('raw', 'bench.item', body, { persistent: true }, (e) => (e ? reject(e) : resolve())),
      );

    const bus = createEventBus({ url: broker.url, serviceName: 'bench', exchange: 'ours' });
    await bus.connect();

    const options = { samples: 30, warmupMs: 300 };
    rows.push({
      name: 'raw publish (1 at a time)',
      value: (await measure(rawPublish, options)).medianNs,
      unit: 'ns',
    });
    rows.push({
      name: 'ours publish (1 at a time)',
      value: (await measure(() => bus.publish(event()), options)).medianNs,
      unit: 'ns',
      baseline: 'raw publish (1 at a time)',
    });
    const batch = { ...options, opsPerSample: 1 };
    const rawBatch = await measure(() => Promise.all(Array.from({ length: IN_FLIGHT }, rawPublish)), batch);
    rows.push({
      name: `raw publish (${IN_FLIGHT} in flight)`,
      value: rawBatch.medianNs / IN_FLIGHT,
      unit: 'ns',
    });
    const ourBatch = await measure(
      () => Promise.all(Array.from({ length: IN_FLIGHT }, () => bus.publish(event()))),
      batch,
    );
    rows.push({
      name: `ours publish (${IN_FLIGHT} in flight)`,
      value: ourBatch.medianNs / IN_FLIGHT,
      unit: 'ns',
      baseline: `raw publish (${IN_FLIGHT} in flight)`,
    });
    await bus.close();

    rows.push({
      name: 'raw consume+ack (prefetch 100)',
      value: await rawConsume(broker.url, connection),
      unit: 'ns',
    });
    rows.push({
      name: 'ours consume+ack (prefetch 100)',
      value: await ourConsume(broker.url, connection),
      unit: 'ns',
      baseline: 'raw consume+ack (prefetch 100)',
    });
    await connection.close();

    const emitter = new EventEmitter();
    let seen = 0;
    emitter.on('bench.item', () => seen++);
    const e = event();
    rows.push({
      name: 'EventEmitter emit',
      value: (await measure(() => emitter.emit('bench.item', e))).medianNs,
      unit: 'ns',
    });
    rows.push({
      name: 'in-memory bus publish+handle',
      value: await memoryRound(),
      unit: 'ns',
      baseline: 'EventEmitter emit',
    });
    printTable('event bus: median per event (lower is better)', rows);
  } finally {
    await broker.stop();
  }
}

/** Fills a quorum queue with CONSUME_EVENTS, then times a fresh raw consumer acking them all. */
async function rawConsume(url: string, connection: Amqp.ChannelModel): Promise<number> {
  const perEvent: number[] = [];
  const fill = await connection.createConfirmChannel();
  await fill.assertQueue('raw.consume', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  const body = Buffer.from(JSON.stringify(event()));
  for (let round = 0; round < CONSUME_ROUNDS; round++) {
    for (let i = 0; i < CONSUME_EVENTS; i++) fill.sendToQueue('raw.consume', body, { persistent: true });
    await fill.waitForConfirms();
    const start = now();
    const consumer = await amqp.connect(url);
    const channel = await consumer.createChannel();
    await channel.prefetch(100);
    let acked = 0;
    await new Promise<void>((resolve) => {
      void channel.consume('raw.consume', (message) => {
        if (message === null) return;
        JSON.parse(message.content.toString());
        channel.ack(message);
        if (++acked === CONSUME_EVENTS) resolve();
      });
    });
    perEvent.push((now() - start) / CONSUME_EVENTS);
    await consumer.close();
  }
  await fill.close();
  return summarize(perEvent).medianNs;
}

/** The same through the bus: a fresh bus per round consumes the backlog of its queue. */
async function ourConsume(url: string, connection: Amqp.ChannelModel): Promise<number> {
  const perEvent: number[] = [];
  const setup = createEventBus({ url, serviceName: 'bench-consume', exchange: 'ours' });
  await setup.subscribe('bench.#', () => {}, { prefetch: 100, concurrency: 100 });
  await setup.close();
  const fill = await connection.createConfirmChannel();
  for (let round = 0; round < CONSUME_ROUNDS; round++) {
    for (let i = 0; i < CONSUME_EVENTS; i++) {
      fill.publish('ours', 'bench.item', Buffer.from(JSON.stringify(event())), { persistent: true });
    }
    await fill.waitForConfirms();
    const start = now();
    const bus = createEventBus({ url, serviceName: 'bench-consume', exchange: 'ours' });
    let handled = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    await bus.subscribe(
      'bench.#',
      () => {
        if (++handled === CONSUME_EVENTS) done();
      },
      { prefetch: 100, concurrency: 100 },
    );
    await all;
    perEvent.push((now() - start) / CONSUME_EVENTS);
    await bus.close();
  }
  await fill.close();
  return summarize(perEvent).medianNs;
}

/** Publishes a batch on the in-memory bus and waits until each is handled; per event. */
async function memoryRound(): Promise<number> {
  const bus = createEventBus({ serviceName: 'bench-memory', inboxCapacity: 1_000 });
  let handled = 0;
  await bus.subscribe('bench.#', () => void handled++);
  const n = 1_000;
  const sample = await measure(
    async () => {
      const target = handled + n;
      for (let i = 0; i < n; i++) await bus.publish(event());
      while (handled < target) await new Promise((r) => setImmediate(r));
    },
    { opsPerSample: 1, samples: 30 },
  );
  await bus.close();
  return sample.medianNs / n;
}

await main();
