import { createEventBus } from '@clone/event-bus';
import { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
import { afterAll, beforeAll } from 'vitest';
import { sagaContract } from './contract';
import { distributedHarness } from './distributed-harness';

let broker: RabbitMQServer;

beforeAll(async () => {
  broker = await startRabbitMQ();
}, 120_000);

afterAll(async () => {
  await broker?.stop();
});

// Orchestrator and participant each with their own connection to a real broker.
sagaContract('distributed, RabbitMQ', async () => {
  const orchestratorBus = createEventBus({ serviceName: 'orders', url: broker.url, exchange: 'contract' });
  const participantBus = createEventBus({ serviceName: 'worker', url: broker.url, exchange: 'contract' });
  return distributedHarness(orchestratorBus, participantBus, async () => {
    await orchestratorBus.close();
    await participantBus.close();
  });
});
