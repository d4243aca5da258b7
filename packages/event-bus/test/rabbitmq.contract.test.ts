import * as amqp from 'amqplib';
import { afterAll, beforeAll } from 'vitest';
import { createEventBus } from '../src/index';
import { describeEventBusContract } from './contract';
import { type RabbitMQServer, startRabbitMQ } from './rabbitmq-broker';

let broker: RabbitMQServer;
let raw: amqp.ChannelModel;
let channel: amqp.ConfirmChannel;

beforeAll(async () => {
  broker = await startRabbitMQ();
  raw = await amqp.connect(broker.url);
  channel = await raw.createConfirmChannel();
});

afterAll(async () => {
  await raw?.close().catch(() => {});
  await broker?.stop();
});

let n = 0;
describeEventBusContract('RabbitMQ', async (options) => {
  // A exchange and service name per test: queues and bindings of one test never see another's events.
  const exchange = `contract-${++n}`;
  const bus = createEventBus({ ...options, url: broker.url, serviceName: `svc-${n}`, exchange });
  await bus.connect();
  return {
    bus,
    async rawPublish(routingKey, body) {
      channel.publish(exchange, routingKey, Buffer.from(body), { persistent: true });
      await channel.waitForConfirms();
    },
  };
});
