import { createEventBus, defineEvent, eventBusOptionsFromEnv } from '@clone/event-bus';
import { z } from 'zod';

// Event schemas
const SampleCreated = defineEvent(
  'sample.created',
  z.object({
    sampleId: z.string(),
    userId: z.string(),
    sampleName: z.string(),
    submitterName: z.string(),
    submitterEmail: z.string(),
    sampleType: z.string(),
    priority: z.enum(['low', 'normal', 'high', 'urgent']),
    projectId: z.string().optional(),
    labName: z.string().optional(),
  })
);
const SampleStatusChanged = defineEvent(
  'sample.status_changed',
  z.object({
    sampleId: z.string(),
    userId: z.string(),
    oldStatus: z.string(),
    newStatus: z.string(),
    reason: z.string().optional(),
  })
);

// EVENT_BUS_MAX_LISTENERS, EVENT_BUS_RETRY_DELAY, EVENT_BUS_MAX_RETRIES,
// EVENT_BUS_DEAD_LETTER_THRESHOLD and RABBITMQ_URL
const eventBus = createEventBus({
  ...eventBusOptionsFromEnv(),
  serviceName: 'sample-service',
  events: [SampleCreated, SampleStatusChanged],
});

// Subscribe to events
await eventBus.subscribe(
  SampleCreated,
  async (event) => {
    console.log('Sample created:', event.data.sampleId)
    // Process the event
  },
  {
    retryAttempts: 3,
    deadLetterQueue: true,
    priority: 'high'
  }
)

// Event filtering: every sample event, only the high-priority ones handled
await eventBus.subscribe<{ priority?: string }>(
  'sample.*',
  async (event) => {
    console.log('High-priority sample event:', event.type)
  },
  {
    queue: 'sample-service.high-priority',
    filter: (event) => event.data.priority === 'high'
  }
)

// The audit service listens for all events ('#': any number of words)
const audited: string[] = []
await eventBus.subscribe('#', async (event) => {
  audited.push(`${event.type} ${event.correlationId}`)
}, { queue: 'audit-service.all' })

// Publish events
await eventBus.publish(
  SampleCreated.create(
    {
      sampleId: 'sample-123',
      userId: 'user-456',
      sampleName: 'Test Sample',
      submitterName: 'Ada Lovelace',
      submitterEmail: 'ada@example.com',
      sampleType: 'DNA',
      priority: 'high',
    },
    'sample-service',
    { correlationId }
  )
)
await eventBus.publish(
  SampleStatusChanged.create(
    {
      sampleId: 'sample-123',
      userId: 'user-456',
      oldStatus: 'submitted',
      newStatus: 'prep',
      reason: 'Ready for library preparation',
    },
    'sample-service',
    { correlationId }
  )
)

await eventBus.close()

const stats = eventBus.getStats()
console.log('Event Bus Statistics:', {
  totalEvents: stats.totalEvents,
  eventsByType: stats.eventsByType,
  failedEvents: stats.failedEvents,
  averageProcessingTime: stats.averageProcessingTime
})
console.log('Audited:', audited)
