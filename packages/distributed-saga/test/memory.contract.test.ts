import { createEventBus } from '@clone/event-bus';
import { sagaContract } from './contract';
import { distributedHarness } from './distributed-harness';

// Orchestrator and participant on one in-memory bus: the distributed path, without a broker.
sagaContract('distributed, in-memory bus', async () => {
  const bus = createEventBus({ serviceName: 'orders' });
  return distributedHarness(bus, bus, () => bus.close());
});
