import { createEventBus } from './create-event-bus';
import type { EventBus } from './event-bus';
import type { EventBusOptions } from './event-bus-options';

export { RabbitMQTransport } from './rabbitmq-transport';

/** Options of {@link createRabbitMQClient}: the bus options with `url` required. */
export type RabbitMQClientOptions = Omit<EventBusOptions, 'url' | 'serviceName'> & {
  url: string;
  /** Defaults to the `SERVICE_NAME` variable. */
  serviceName?: string | undefined;
};

/**
 * The design documents' RabbitMQ client: an event bus on the broker at `url`, with `connect()`,
 * `publish(event)`, `subscribe({ eventType, handler, queue, retries, retryDelay })`,
 * `on('error', fn)` and `isConnected()`.
 */
export function createRabbitMQClient(options: RabbitMQClientOptions): EventBus {
  return createEventBus({ ...options, serviceName: options.serviceName ?? process.env.SERVICE_NAME ?? '' });
}
