/**
 * `pnpm bench:events`: @clone/event-bus next to what it is built on, in the same process.
 *   - RabbitMQ (a private broker started for the run, stopped at the end): publish with confirms
 *     one at a time and 256 in flight, and consume with acks at prefetch 100, raw amqplib next to
 *     the bus (which validates with zod, builds the envelope's properties, dedupes through its
 *     inbox and runs handlers in the event's correlation context);
 *   - in memory: the bus's embedded transport next to node's EventEmitter;
 *   - then each of the bus's layers timed alone, so what an event costs can be told apart.
 * Raw and ours alternate operation by operation (publish) or round by round (consume, in
 * memory), each side going first half the time, so drift in machine or broker load hits both.
 * The first tables give throughput (higher is better) with the ratio ours ÷ raw.
 */
import { EventEmitter } from 'node:events';
import { createRequire } from 'node:module';
import { createEventBus, defineEvent, MemoryInbox } from '@clone/event-bus';
import { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
import { z } from 'zod';
import type * as Amqp from '../packages/event-bus/node_modules/amqplib';
import { runWithCorrelationId } from '../packages/event-bus/src/correlation';
import { parseEventData } from '../packages/event-bus/src/define-event';
import { envelopeSchema } from '../packages/event-bus/src/event';
import { formatNs, measure, printTable, type Row, summarize } from './harness';

// amqplib is the bus's (optional peer) dependency, not the root's: load it from there.
const amqp = createRequire(new URL('../packages/event-bus/package.json', import.meta.url))(
  'amqplib',
) as typeof Amqp;

const SINGLE_PAIRS = Number(process.env.BENCH_SINGLE_PAIRS ?? 300);
const IN_FLIGHT = 256;
const BATCH_PAIRS = Number(process.env.BENCH_BATCH_PAIRS ?? 30);
const CONSUME_EVENTS = 5_000;
const CONSUME_PAIRS = Number(process.env.BENCH_CONSUME_PAIRS ?? 5);
const MEMORY_EVENTS = 1_000;
const MEMORY_PAIRS = Number(process.env.BENCH_MEMORY_PAIRS ?? 60);
const LAYER_ROUNDS = 3;
/** Pairs run before the timed ones: connections, JIT and the broker's queues warm up. */
const WARMUP_PAIRS = 20;

/** The event every case sends: a declared type, so the bus checks its data as a service's would. */
const Item = defineEvent('bench.item', z.object({ n: z.number().int(), text: z.string().max(1000) }));
const event = () => Item.create({ n: 1, text: 'x'.repeat(100) }, 'bench');
const now = (): number => Number(process.hrtime.bigint());

type Op = () => Promise<unknown>;

/** Runs `pairs` pairs of raw and ours (each returns ns per event), alternating which goes first; the medians. */
async function alternate(
  pairs: number,
  raw: () => Promise<number>,
  ours: () => Promise<number>,
): Promise<{ raw: number; ours: number }> {
  const r: number[] = [];
  const o: number[] = [];
  for (let i = 0; i < pairs; i++) {
    if (i % 2 === 0) {
      r.push(await raw());
      o.push(await ours());
    } else {
      o.push(await ours());
      r.push(await raw());
    }
  }
  return { raw: summarize(r).medianNs, ours: summarize(o).medianNs };
}

/** Times `op` (which handles `events` events), in ns per event. */
function timed(op: Op, events = 1): () => Promise<number> {
  return async () => {
    const start = now();
    await op();
    return (now() - start) / events;
  };
}

/** Rows comparing raw and ours: events/s from the median ns per event, the ratio ours ÷ raw. */
function compare(raw: string, ours: string, figures: { raw: number; ours: number }, target: string): Row[] {
  const row = (name: string, ns: number): Row => ({
    name,
    value: 1e9 / ns,
    unit: 'events/s',
    extra: { 'per event': formatNs(ns), target: name === ours ? target : '' },
  });
  return [row(raw, figures.raw), { ...row(ours, figures.ours), baseline: raw }];
}

async function rabbitRows(broker: RabbitMQServer): Promise<Row[]> {
  const connection = await amqp.connect(broker.url);
  const channel = await connection.createConfirmChannel();
  // Each exchange feeds one quorum queue, as a subscribed event's does: a confirm then means
  // replicated and fsynced, as in production.
  for (const exchange of ['raw', 'ours']) {
    await channel.assertExchange(exchange, 'topic', { durable: true });
    await channel.assertQueue(`${exchange}.sink`, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
    await channel.bindQueue(`${exchange}.sink`, exchange, 'bench.item');
  }
  // What hand-written amqplib code does per event: build and serialise it, publish, await the confirm.
  const rawPublish: Op = () =>
    new Promise<void>((resolve, reject) =>
      channel.publish('raw', 'bench.item', Buffer.from(JSON.stringify(event())), { persistent: true }, (e) =>
        e ? reject(e) : resolve(),
      ),
    );
  const bus = createEventBus({ url: broker.url, serviceName: 'bench', exchange: 'ours', events: [Item] });
  await bus.connect();
  const ourPublish: Op = () => bus.publish(event());
  const many =
    (op: Op): Op =>
    () =>
      Promise.all(Array.from({ length: IN_FLIGHT }, op));

  await alternate(WARMUP_PAIRS, timed(rawPublish), timed(ourPublish));
  const single = await alternate(SINGLE_PAIRS, timed(rawPublish), timed(ourPublish));
  const batch = await alternate(
    BATCH_PAIRS,
    timed(many(rawPublish), IN_FLIGHT),
    timed(many(ourPublish), IN_FLIGHT),
  );
  await bus.close();
  for (const exchange of ['raw', 'ours']) await channel.deleteQueue(`${exchange}.sink`);
  await channel.close();

  const consume = await consumeFigures(broker.url, connection);
  await connection.close();
  const both = (name: string, figures: { raw: number; ours: number }) =>
    compare(`raw amqplib: ${name}`, `ours: ${name}`, figures, '≥ 0.90x');
  return [
    ...both('publish+confirm (1 at a time)', single),
    ...both(`publish+confirm (${IN_FLIGHT} in flight)`, batch),
    ...both('consume+ack (prefetch 100)', consume),
  ];
}

/**
 * Consume throughput: a queue is filled with CONSUME_EVENTS events, then a fresh consumer (raw,
 * or a fresh bus) drains it, timed from its first delivery to its last, so connecting and
 * declaring queues stay out of the figure.
 */
async function consumeFigures(url: string, connection: Amqp.ChannelModel) {
  const fill = await connection.createConfirmChannel();
  await fill.assertQueue('raw.consume', { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  // The bus declares its own queue (`<service>.<pattern>`, quorum, delivery limit, dead letters).
  const options = { prefetch: 100, concurrency: 100 };
  const declare = createEventBus({ url, serviceName: 'bench-consume', exchange: 'ours', events: [Item] });
  await declare.subscribe(Item, () => {}, options);
  await declare.close();
  const fillWith = async (exchange: string, routingKey: string) => {
    for (let i = 0; i < CONSUME_EVENTS; i++) {
      fill.publish(exchange, routingKey, Buffer.from(JSON.stringify(event())), { persistent: true });
    }
    await fill.waitForConfirms();
  };
  const drain = (attach: (handled: () => void) => Promise<() => Promise<void>>) => async () => {
    let first = 0;
    let count = 0;
    let done!: () => void;
    const all = new Promise<void>((resolve) => {
      done = resolve;
    });
    const detach = await attach(() => {
      if (count++ === 0) first = now();
      if (count === CONSUME_EVENTS) done();
    });
    await all;
    const perEvent = (now() - first) / (CONSUME_EVENTS - 1);
    await detach();
    return perEvent;
  };
  const raw = drain(async (handled) => {
    const consumer = await amqp.connect(url);
    const channel = await consumer.createChannel();
    await channel.prefetch(100);
    await channel.consume('raw.consume', (message) => {
      if (message === null) return;
      JSON.parse(message.content.toString('utf8'));
      channel.ack(message);
      handled();
    });
    return () => consumer.close();
  });
  const ours = drain(async (handled) => {
    const bus = createEventBus({ url, serviceName: 'bench-consume', exchange: 'ours', events: [Item] });
    await bus.subscribe(Item, handled, options);
    return () => bus.close();
  });
  const figures = await alternate(
    CONSUME_PAIRS,
    async () => {
      await fillWith('', 'raw.consume');
      return raw();
    },
    async () => {
      await fillWith('ours', 'bench.item');
      return ours();
    },
  );
  await fill.deleteQueue('raw.consume');
  await fill.close();
  return figures;
}

async function memoryRows(): Promise<Row[]> {
  const emitter = new EventEmitter();
  let seen = 0;
  emitter.on('bench.item', () => seen++);
  const bus = createEventBus({ serviceName: 'bench-memory', events: [Item] });
  let handled = 0;
  await bus.subscribe(Item, () => void handled++);
  // Both build each event (the bus needs a new id per event, else its inbox drops it as a repeat).
  const emit = timed(async () => {
    for (let i = 0; i < MEMORY_EVENTS; i++) emitter.emit('bench.item', event());
  }, MEMORY_EVENTS);
  const publish = timed(async () => {
    const target = handled + MEMORY_EVENTS;
    for (let i = 0; i < MEMORY_EVENTS; i++) await bus.publish(event());
    while (handled < target) await new Promise((resolve) => setImmediate(resolve));
  }, MEMORY_EVENTS);
  await alternate(WARMUP_PAIRS, emit, publish);
  const figures = await alternate(MEMORY_PAIRS, emit, publish);
  await bus.close();
  const what = 'build event + deliver to 1 handler';
  return compare(`EventEmitter: ${what}`, `in-memory bus: ${what}`, figures, '≥ 0.50x');
}

/**
 * What each layer of the bus costs per event, timed alone next to the EventEmitter path (ns; ratio
 * to it). Every case is measured once per round, LAYER_ROUNDS rounds, and the median kept.
 */
async function layerRows(): Promise<Row[]> {
  const emitter = new EventEmitter();
  emitter.on('bench.item', () => {});
  const sample = event();
  const body = JSON.stringify(sample);
  const inbox = new MemoryInbox(10_000);
  const keys = Array.from({ length: 20_000 }, (_, i) => `bench-memory.bench.item:${i}`);
  let k = 0;
  const baseline = 'EventEmitter: build event + emit';
  const cases: [string, () => unknown][] = [
    [baseline, () => emitter.emit('bench.item', event())],
    ['build the envelope (id, timestamp, correlation id)', event],
    ['zod: envelope check (publish, and again on receipt)', () => envelopeSchema.safeParse(sample)],
    [
      'zod: data schema of the type (publish, and again on receipt)',
      () => parseEventData(Item, sample.data, 'bench'),
    ],
    ['JSON: stringify (publish) + parse (receipt)', () => JSON.parse(JSON.stringify(sample))],
    ['JSON: parse alone', () => JSON.parse(body)],
    [
      'inbox: has + add (dedupe by queue:id)',
      () => {
        const key = keys[k++ % keys.length]!;
        inbox.has(key);
        inbox.add(key);
      },
    ],
    ['correlation context around the handler', () => runWithCorrelationId(sample.correlationId, () => 0)],
  ];
  const times = cases.map((): number[] => []);
  for (let round = 0; round < LAYER_ROUNDS; round++) {
    for (const [i, [, fn]] of cases.entries()) times[i]!.push((await measure(fn, { samples: 20 })).medianNs);
  }
  return cases.map(([name], i) => ({
    name,
    value: summarize(times[i]!).medianNs,
    unit: 'ns',
    ...(name === baseline ? {} : { baseline }),
  }));
}

async function main(): Promise<void> {
  const broker = await startRabbitMQ();
  try {
    const rabbit = await rabbitRows(broker);
    const memory = await memoryRows();
    printTable('event bus throughput, median (higher is better; ratio = ours ÷ raw)', [...rabbit, ...memory]);
    printTable('cost per event of each layer, timed alone (lower is better; ratio = time ÷ EventEmitter)', [
      ...(await layerRows()),
    ]);
  } finally {
    await broker.stop();
  }
}

await main();
