import { createEventBus, EventBuilder } from '@clone/event-bus';

// One bus per service: RabbitMQ when RABBITMQ_URL is set, in memory otherwise (same code).
const messageQueue = createEventBus({ serviceName: 'order-service', exchange: 'user-events' });

// Subscriber: its own durable queue, bound to `user.*`; acknowledged after the handler succeeds.
await messageQueue.subscribe(
  'user.*',
  async (message) => {
    console.log('Received message:', message.data);
    // Process message
  },
  { queue: 'order-service-user-events' }
);

// Publisher: resolves once the broker has confirmed the event (persistent, durable exchange).
await messageQueue.connect();
await messageQueue.publish(
  EventBuilder.create(
    'user.created',
    { data: { id: 'user123', email: 'user@example.com' } },
    'user-service'
  )
);

await messageQueue.close();
