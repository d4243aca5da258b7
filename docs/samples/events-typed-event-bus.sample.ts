import { createEventBus, defineEvent } from '@clone/event-bus';
import { z } from 'zod';

// Each event type is declared once: publish validates `data`, handlers get it typed.
const UserCreated = defineEvent(
  'user.created',
  z.object({ id: z.string(), email: z.string().email() })
);

const eventBus = createEventBus({
  serviceName: process.env.SERVICE_NAME ?? 'order-service',
  events: [UserCreated],
});

await eventBus.subscribe(UserCreated, async (event) => {
  // event.data is { id: string; email: string }
  console.log('Sending a welcome mail to', event.data.email);
});

await eventBus.publish(
  UserCreated.create({ id: 'user123', email: 'user@example.com' }, 'user-service')
);

await eventBus.close();
