/**
 * Runs sagas against PostgreSQL until the parent test kills it with SIGKILL.
 * Env: PG_URL, SAGA_COUNT, SAGA_TABLE, LEASE_MS, HANG (comma-separated step ids), PAUSE_MS.
 */
import pg from 'pg';
import { SagaOrchestrator } from '../src/index';
import { PostgresSagaStore } from '../src/postgres';
import { registerHandlers, stepsFor } from './saga-fixture';

const env = (name: string): string => {
  const value = process.env[name];
  if (value === undefined) throw new Error(`${name} is not set`);
  return value;
};

const pool = new pg.Pool({ connectionString: env('PG_URL'), max: 20 });
const store = new PostgresSagaStore({ pool, table: env('SAGA_TABLE') });
const orchestrator = new SagaOrchestrator({
  store,
  orchestratorId: 'child',
  leaseMs: Number(env('LEASE_MS')),
  maxActiveSagas: 10_000,
});
registerHandlers(orchestrator, pool, {
  maxPauseMs: Number(env('PAUSE_MS')),
  owner: 'child',
  hang: (process.env.HANG ?? '').split(',').filter(Boolean),
});

const count = Number(env('SAGA_COUNT'));
// Staggered starts, ten at a time: when the parent kills us, sagas are at every stage.
for (let i = 0; i < count; i += 10) {
  await Promise.all(
    Array.from({ length: Math.min(10, count - i) }, (_, k) =>
      orchestrator.startSaga('fixture', stepsFor(i + k), { i: i + k }, `c-${i + k}`, {
        sagaId: `saga-${String(i + k).padStart(4, '0')}`,
      }),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, 20));
}
process.stdout.write('started\n');
