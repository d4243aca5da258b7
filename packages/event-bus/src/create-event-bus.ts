import { noopLogger, parseOptions, systemClock } from '@clone/service-errors';
import { EventBus } from './event-bus';
import { type EventBusOptions, eventBusOptionsSchema } from './event-bus-options';
import { MemoryTransport } from './memory-transport';

/**
 * Creates an event bus: on RabbitMQ when `url` (or the `RABBITMQ_URL` variable) is given, in
 * memory otherwise. Options are checked here (BAD_REQUEST naming the field); nothing connects
 * until `connect()`, `publish` or `subscribe`. The RabbitMQ transport is loaded only then, so an
 * in-memory bus needs no AMQP library installed.
 */
export function createEventBus(options: EventBusOptions): EventBus {
  const parsed = parseOptions(
    eventBusOptionsSchema,
    options?.url === undefined && process.env.RABBITMQ_URL
      ? { ...options, url: process.env.RABBITMQ_URL }
      : options,
    'createEventBus',
  );
  const clock = parsed.clock ?? systemClock;
  const logger = parsed.logger ?? noopLogger;
  const { url, transport } = parsed;
  if (transport !== undefined) return new EventBus(parsed, async () => transport);
  if (url === undefined) {
    const memory = new MemoryTransport({ clock, logger });
    return new EventBus(parsed, async () => memory);
  }
  return new EventBus(parsed, async () => {
    const { RabbitMQTransport } = await import('./rabbitmq-transport');
    return new RabbitMQTransport({ ...parsed, url, clock, logger, random: parsed.random ?? Math.random });
  });
}
