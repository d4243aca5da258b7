/**
 * The participant process of `pnpm bench:saga`'s distributed rows: serves the bench saga's
 * `work` and `undo` actions for service `bench-remote`, recording outcomes in PostgreSQL.
 * Prints `{"ready":true}`. env: RABBITMQ_URL, DATABASE_URL.
 */
import { SagaParticipant } from '@clone/distributed-saga';
import { PostgresParticipantStore } from '@clone/distributed-saga/postgres';
import { createEventBus } from '@clone/event-bus';

const bus = createEventBus({ serviceName: 'bench-remote', url: process.env.RABBITMQ_URL! });
const store = new PostgresParticipantStore({
  connectionString: process.env.DATABASE_URL!,
  maxConnections: 16,
});
const participant = new SagaParticipant({ bus, store, concurrency: 64, announceIntervalMs: 0 });
participant.registerStepHandler('work', (step, _context, execution) => ({
  step: step.id,
  key: execution.idempotencyKey,
}));
participant.registerCompensationHandler('undo', () => undefined);
await participant.start();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
