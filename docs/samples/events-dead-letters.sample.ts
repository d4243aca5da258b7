import { createEventBus, EventBuilder } from '@clone/event-bus';

const eventBus = createEventBus({ serviceName: 'ai-service', deadLetterThreshold: 1 });

// A handler whose dependency is down: retried with backoff, then dead-lettered with its error
let modelServerUp = false;
await eventBus.subscribe(
  'ai.pdf_processing_started',
  async (event) => {
    if (!modelServerUp) throw new Error('model server unavailable');
    console.log('Processing PDF:', event.data);
  },
  { retryAttempts: 2, retryDelayMs: 10 }
);

await eventBus.publish(
  EventBuilder.create(
    'ai.pdf_processing_started',
    { data: { sampleId: 'sample-123', fileName: 'form.pdf', fileSize: 48213, processingMethod: 'llm' } },
    'ai-service'
  )
);
while ((await eventBus.getDeadLetterQueue()).length === 0) {
  await new Promise((resolve) => setTimeout(resolve, 10));
}

// Monitor event bus health
const eventBusHealth = await eventBus.healthCheck();
console.log('Event Bus Health:', eventBusHealth.status);

// Monitor dead letter queue
const deadLetterEvents = await eventBus.getDeadLetterQueue();
console.log('Dead Letter Events:', deadLetterEvents.length);
for (const letter of deadLetterEvents) {
  console.log(`${letter.routingKey}: ${letter.error?.message} after ${letter.attempts} attempts`);
}

// Monitor retry queue
const retryQueueSize = await eventBus.getRetryQueueSize();
console.log('Retry Queue Size:', retryQueueSize);

// Fix the cause, then reprocess the dead letters (or clear them)
modelServerUp = true;
const replayed = await eventBus.replayDeadLetters();
console.log('Replayed dead letter events:', replayed);
const clearedCount = await eventBus.clearDeadLetterQueue();
console.log('Cleared dead letter events:', clearedCount);

await eventBus.close();
