import { createEventBus, EventBuilder } from '@clone/event-bus';

const EventType = { USER_CREATED: 'user.created' } as const;

// `createRabbitMQClient({ url, logger })` from '@clone/event-bus/rabbitmq' is this same bus
// with `url` required; here the URL comes from RABBITMQ_URL (in memory when it is unset).
const rabbitmq = createEventBus({
  url: process.env.RABBITMQ_URL,
  serviceName: 'auth-service',
  logger,
});

// Handle RabbitMQ connection errors (the bus reconnects by itself)
rabbitmq.on('error', (error) => {
  logger.error('RabbitMQ error:', { error: error.message });
});

await rabbitmq.connect();

// Subscribing to events
await rabbitmq.subscribe({
  eventType: EventType.USER_CREATED,
  handler: async (event) => {
    console.log('User created:', event.data);
    // Process the event
  },
  queue: 'access-service.user.created',
  retries: 3,
  retryDelay: 1000,
});

// Publish an event
const event = EventBuilder.create(
  EventType.USER_CREATED,
  {
    data: {
      userId: '123',
      email: 'user@example.com',
      firstName: 'John',
      lastName: 'Doe',
      role: 'user',
    },
  },
  'auth-service'
);

await rabbitmq.publish(event);
console.log('connected:', rabbitmq.isConnected());

await rabbitmq.close();
