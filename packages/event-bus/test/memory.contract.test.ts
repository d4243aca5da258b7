import { noopLogger, systemClock } from '@clone/service-errors';
import { createEventBus } from '../src/index';
import { MemoryTransport } from '../src/memory-transport';
import { describeEventBusContract } from './contract';

let n = 0;
describeEventBusContract('in-memory', async (options) => {
  const transport = new MemoryTransport({ clock: systemClock, logger: noopLogger });
  const bus = createEventBus({ ...options, serviceName: `svc-${++n}`, transport });
  return { bus, rawPublish: (routingKey, body) => transport.publish(routingKey, body) };
});
