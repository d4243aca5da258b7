/**
 * The participant process of `pnpm bench:saga`'s distributed rows: serves the bench saga's
 * `work` and `undo` actions for service SERVICE (default `bench-remote`), recording outcomes in
 * PostgreSQL. MAX_CONCURRENT_STATEMENTS sets the store's `maxConcurrentStatements` (the bench
 * sets it high for the row that gives every command statements of its own, the way it was before
 * reads and records were batched). Prints `{"ready":true}`. env: RABBITMQ_URL, DATABASE_URL.
 */
import { SagaParticipant } from '@clone/distributed-saga';
import { PostgresParticipantStore } from '@clone/distributed-saga/postgres';
import { createEventBus } from '@clone/event-bus';

const service = process.env.SERVICE ?? 'bench-remote';
const statements = process.env.MAX_CONCURRENT_STATEMENTS;
const bus = createEventBus({ serviceName: service, url: process.env.RABBITMQ_URL! });
const store = new PostgresParticipantStore({
  connectionString: process.env.DATABASE_URL!,
  maxConnections: 16,
  ...(statements === undefined ? {} : { maxConcurrentStatements: Number(statements) }),
});
const participant = new SagaParticipant({ bus, store, concurrency: 64, announceIntervalMs: 0 });
participant.registerStepHandler('work', (step, _context, execution) => ({
  step: step.id,
  key: execution.idempotencyKey,
}));
participant.registerCompensationHandler('undo', () => undefined);
await participant.start();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
