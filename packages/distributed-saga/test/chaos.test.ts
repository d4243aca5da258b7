import { createEventBus, type EventBus } from '@clone/event-bus';
import { PostgresSagaStore } from '@clone/saga/postgres';
import { type PostgresServer, type RabbitMQServer, startPostgres, startRabbitMQ } from '@clone/test-servers';
import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DistributedSagaOrchestrator } from '../src/index';
import { PostgresParticipantStore } from '../src/postgres';
import { chaosContext, chaosSteps, LEDGER_DDL, SERVICES, sagaId } from './chaos-saga';
import { type Child, startChild, waitUntil } from './child';

/**
 * Crashes in the middle of 200 distributed sagas, with real PostgreSQL and RabbitMQ: kill -9 of a
 * participant, of the orchestrator, and of the broker. Each time every saga must end completed
 * (or compensated, for the quarter built to fail at their last step), and no step's side effect
 * may be applied after the participant recorded its outcome: a side-effect ledger in PostgreSQL
 * is checked against the participants' recorded outcomes. Waits poll for outcomes with a hang
 * guard; nothing asserts a duration.
 */
const COUNT = Number(process.env.CHAOS_SAGAS ?? 200);
// One exchange for every run: a service's command queue is bound to one dead-letter exchange.
const EXCHANGE = 'chaos';

let database: PostgresServer;
let broker: RabbitMQServer;
let pool: pg.Pool;
const children: Child[] = [];
const cleanups: (() => Promise<void>)[] = [];

beforeAll(async () => {
  [database, broker] = await Promise.all([startPostgres({ fsync: false }), startRabbitMQ()]);
  pool = new pg.Pool({ connectionString: database.connectionString, max: 8 });
  pool.on('error', () => {});
  await pool.query(LEDGER_DDL);
  await new PostgresParticipantStore({ pool }).init();
  await new PostgresSagaStore({ pool }).init();
}, 180_000);

afterEach(async () => {
  for (const child of children.splice(0)) child.process.kill('SIGKILL');
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

afterAll(async () => {
  await pool?.end();
  await Promise.all([database?.stop(), broker?.stop()]);
});

async function participant(service: string): Promise<Child> {
  const child = startChild('./participant-child.ts', {
    RABBITMQ_URL: broker.url,
    EXCHANGE,
    DATABASE_URL: database.connectionString,
    SERVICE: service,
  });
  children.push(child);
  await waitUntil(() => child.lines.some((l) => l.ready === true), `participant ${service} ready`).catch(
    (error: Error) => {
      throw new Error(`${error.message}; its stderr: ${child.errors.join(' | ')}`);
    },
  );
  return child;
}

function bus(): EventBus {
  const made = createEventBus({
    serviceName: 'orders',
    url: broker.url,
    exchange: EXCHANGE,
    maxReconnectDelayMs: 250,
    setupTimeoutMs: 20_000,
    publishTimeoutMs: 120_000,
  });
  made.on('error', () => {});
  cleanups.push(() => made.close());
  return made;
}

function orchestrator(id: string): DistributedSagaOrchestrator {
  const made = new DistributedSagaOrchestrator({
    bus: bus(),
    orchestratorId: id,
    store: new PostgresSagaStore({ pool }),
    maxActiveSagas: 1_000,
    leaseMs: 2_000,
    recoveryIntervalMs: 500,
    resendIntervalMs: 1_000,
  });
  cleanups.push(() => made.close({ drainTimeoutMs: 0 }));
  return made;
}

async function startAll(o: DistributedSagaOrchestrator, run: string): Promise<void> {
  const steps = chaosSteps(20_000);
  await Promise.all(
    Array.from({ length: COUNT }, (_, i) =>
      o.startSaga('chaos', steps, chaosContext(i), undefined, { sagaId: sagaId(run, i) }),
    ),
  );
}

async function finishedCount(run: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM clone_sagas WHERE id LIKE $1 AND status IN ('completed', 'compensated', 'failed')`,
    [`${run}-%`],
  );
  return rows[0]!.n;
}

/** Every saga ended as designed, and no side effect was applied after its outcome was recorded. */
async function verify(run: string): Promise<{ reExecutions: number }> {
  await waitUntil(
    async () => (await finishedCount(run)) === COUNT,
    `all ${COUNT} sagas of ${run} to end`,
    120_000,
  );
  const { rows: sagas } = await pool.query<{ id: string; status: string }>(
    'SELECT id, status FROM clone_sagas WHERE id LIKE $1',
    [`${run}-%`],
  );
  const wrong = sagas.filter((s) => {
    const i = Number(s.id.slice(run.length + 1));
    return s.status !== (chaosContext(i).failAt === null ? 'completed' : 'compensated');
  });
  expect(wrong).toEqual([]);
  const { rows: late } = await pool.query(
    `SELECT l.command_id, l.at, p.recorded_at FROM ledger l JOIN clone_saga_participant p USING (command_id)
     WHERE l.saga_id LIKE $1 AND l.at > p.recorded_at`,
    [`${run}-%`],
  );
  expect(late).toEqual([]);
  // Each step of a completed saga applied, each step of a compensated one undone (s4 never ran).
  const { rows: effects } = await pool.query<{ saga_id: string; step_id: string; kind: string; n: number }>(
    'SELECT saga_id, step_id, kind, count(*)::int AS n FROM ledger WHERE saga_id LIKE $1 GROUP BY 1, 2, 3',
    [`${run}-%`],
  );
  const applied = new Set(effects.map((e) => `${e.saga_id}/${e.step_id}/${e.kind}`));
  const missing: string[] = [];
  for (let i = 0; i < COUNT; i++) {
    const id = sagaId(run, i);
    const fails = chaosContext(i).failAt !== null;
    for (const step of fails ? ['s1', 's2', 's3'] : ['s1', 's2', 's3', 's4']) {
      if (!applied.has(`${id}/${step}/step`)) missing.push(`${id}/${step}/step`);
      if (fails && !applied.has(`${id}/${step}/compensation`)) missing.push(`${id}/${step}/compensation`);
    }
    if (fails && applied.has(`${id}/s4/step`)) missing.push(`${id}/s4 ran`);
    if (!fails && applied.has(`${id}/s1/compensation`)) missing.push(`${id}/s1 undone`);
  }
  expect(missing).toEqual([]);
  // Executions beyond the first happen only when a crash came before the outcome was recorded.
  return { reExecutions: effects.reduce((sum, e) => sum + e.n - 1, 0) };
}

describe(`distributed sagas under crashes (${COUNT} sagas each)`, () => {
  it('kill -9 of a participant mid-step: its commands are redelivered to its successor', async () => {
    const run = 'pkill';
    const alpha = await participant('alpha');
    await participant('beta');
    const o = orchestrator('orch-pkill');
    await o.waitForParticipants([...SERVICES]);
    await startAll(o, run);
    await waitUntil(async () => (await finishedCount(run)) >= COUNT * 0.3, '30 % of the sagas to end');
    alpha.process.kill('SIGKILL');
    await alpha.exited;
    await participant('alpha');
    const { reExecutions } = await verify(run);
    console.info(
      `participant kill: ${COUNT} sagas ended as designed; ${reExecutions} step(s) re-run before a recorded outcome`,
    );
  }, 120_000);

  it('kill -9 of the orchestrator mid-saga: another one recovers every saga', async () => {
    const run = 'okill';
    await participant('alpha');
    await participant('beta');
    const first = startChild('./orchestrator-child.ts', {
      RABBITMQ_URL: broker.url,
      EXCHANGE,
      DATABASE_URL: database.connectionString,
      RUN: run,
      COUNT: String(COUNT),
      ORCHESTRATOR_ID: 'orch-okill-1',
    });
    children.push(first);
    await waitUntil(() => first.lines.some((l) => l.started === COUNT), 'the sagas to be started', 60_000);
    await waitUntil(async () => (await finishedCount(run)) >= COUNT * 0.3, '30 % of the sagas to end');
    first.process.kill('SIGKILL');
    await first.exited;
    const before = await finishedCount(run);
    const successor = orchestrator('orch-okill-2');
    await successor.start();
    const { reExecutions } = await verify(run);
    expect(before).toBeLessThan(COUNT);
    console.info(
      `orchestrator kill: ${COUNT - before} sagas recovered and ended as designed; ${reExecutions} step(s) re-run before a recorded outcome; ` +
        `${successor.commands.getStats().replies} replies, answered from the participants' records where recorded`,
    );
  }, 120_000);

  it('kill -9 of the broker mid-saga: commands and replies resume after its restart', async () => {
    const run = 'brk';
    await participant('alpha');
    await participant('beta');
    const o = orchestrator('orch-brk');
    await o.waitForParticipants([...SERVICES]);
    // RabbitMQ may not bring back a quorum queue declared a moment before it is killed: let the
    // queues' logs settle first. This waits on the broker; it asserts nothing about time.
    await new Promise((resolve) => setTimeout(resolve, 5_000));
    await startAll(o, run);
    await waitUntil(async () => (await finishedCount(run)) >= COUNT * 0.3, '30 % of the sagas to end');
    await broker.kill('SIGKILL');
    await broker.start();
    const { reExecutions } = await verify(run);
    const stats = o.commands.getStats();
    console.info(
      `broker kill: ${COUNT} sagas ended as designed; ${stats.resends} command resend(s); ${reExecutions} step(s) re-run before a recorded outcome`,
    );
  }, 150_000);
});
