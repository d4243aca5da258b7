/**
 * A participant service in its own process, for the tests that kill one. It runs the chaos
 * saga's steps of SERVICE: each writes a row to the side-effect ledger (PostgreSQL) before it
 * answers, after a short random pause so a kill lands mid-step. Prints `{"ready":true}`.
 * env: RABBITMQ_URL, EXCHANGE, DATABASE_URL, SERVICE.
 */
import { createEventBus } from '@clone/event-bus';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import pg from 'pg';
import { SagaParticipant } from '../src/index';
import { PostgresParticipantStore } from '../src/postgres';
import { STEP_IDS } from './chaos-saga';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is required`);
  return value;
};
const service = env('SERVICE');
const pool = new pg.Pool({ connectionString: env('DATABASE_URL'), max: 8 });
pool.on('error', () => {});
const bus = createEventBus({
  serviceName: service,
  url: env('RABBITMQ_URL'),
  exchange: env('EXCHANGE'),
  maxReconnectDelayMs: 250,
  setupTimeoutMs: 20_000,
  publishTimeoutMs: 120_000,
});
// Shown by the test when this process never gets ready.
bus.on('error', (e) =>
  process.stderr.write(`bus error: ${e.message}: ${String((e as { cause?: Error }).cause?.message)}\n`),
);
const participant = new SagaParticipant({
  bus,
  service,
  store: new PostgresParticipantStore({ pool }),
  concurrency: 32,
  announceIntervalMs: 2_000,
});

const pause = (): Promise<void> => new Promise((r) => setTimeout(r, Math.floor(Math.random() * 15)));

for (const id of STEP_IDS) {
  participant.registerStepHandler(id, async (def, context: { failAt: string | null }, execution) => {
    await pause();
    if (context.failAt === def.id) {
      throw new ServiceError(ServiceErrorCode.CONFLICT, `${def.id} refused`, service, { retryable: false });
    }
    await pool.query(
      'INSERT INTO ledger (command_id, saga_id, step_id, kind, service) VALUES ($1, $2, $3, $4, $5)',
      [execution.idempotencyKey, execution.sagaId, def.id, 'step', service],
    );
    return { by: service, step: def.id };
  });
  participant.registerCompensationHandler(`undo_${id}`, async (def, _context, execution) => {
    await pause();
    await pool.query(
      'INSERT INTO ledger (command_id, saga_id, step_id, kind, service) VALUES ($1, $2, $3, $4, $5)',
      [`${execution.idempotencyKey}:compensate`, execution.sagaId, def.id, 'compensation', service],
    );
  });
}
await participant.start();
process.stdout.write(`${JSON.stringify({ ready: true })}\n`);
