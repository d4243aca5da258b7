import {
  createEventBus,
  defineEvent,
  EventBuilder,
  type EventEnvelope,
  PostgresOutbox,
} from '@clone/event-bus';
import { SagaOrchestrator } from '@clone/saga';
import { PostgresSagaStore } from '@clone/saga/postgres';
import { type PostgresServer, startPostgres } from '@clone/test-servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';

/**
 * The recipe of docs/event-bus.md ("Saga events through the outbox"), run against a real
 * PostgreSQL: the saga store's transition hook adds the event to the outbox in the transaction
 * that records the saga's final state, and the relay publishes it.
 */
const SagaEnded = defineEvent(
  'saga.ended',
  z.object({
    sagaId: z.string(),
    sagaType: z.string(),
    status: z.enum(['completed', 'compensated', 'failed']),
  }),
);

let server: PostgresServer;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.connectionString, max: 10 });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

describe('saga events through the transactional outbox', () => {
  it('publishes one event per finished saga, stored in the transaction of its final state', async () => {
    const bus = createEventBus({ serviceName: 'orchestrator', events: [SagaEnded] });
    const outbox = new PostgresOutbox({ pool, bus, pollIntervalMs: 50 });
    await outbox.migrate();
    const store = new PostgresSagaStore({
      pool,
      onTransition: async (client, t) => {
        if (t.status !== 'completed' && t.status !== 'compensated' && t.status !== 'failed') return;
        const data = { sagaId: t.id, sagaType: t.type, status: t.status };
        await outbox.add(
          client,
          EventBuilder.create(SagaEnded.type, { data, correlationId: t.id }, 'orchestrator'),
        );
      },
    });
    const received: EventEnvelope<z.infer<typeof SagaEnded.schema>>[] = [];
    await bus.subscribe(SagaEnded, (event) => void received.push(event), { queue: 'analytics.sagas' });
    outbox.start();

    const o = new SagaOrchestrator({ store });
    o.registerStepHandler('ok', () => ({ ok: true }));
    o.registerStepHandler('boom', () => {
      throw new Error('declined');
    });
    const ok = await o.startSaga('order', [{ id: 'a', name: 'a', service: 's', action: 'ok' }], {});
    const bad = await o.startSaga('order', [{ id: 'b', name: 'b', service: 's', action: 'boom' }], {});
    await o.waitForSaga(ok);
    await o.waitForSaga(bad);
    await o.close();

    for (let i = 0; i < 200 && received.length < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await outbox.stop();
    await bus.close();
    expect(received.map((e) => e.data).sort((a, b) => a.status.localeCompare(b.status))).toEqual([
      { sagaId: bad, sagaType: 'order', status: 'compensated' },
      { sagaId: ok, sagaType: 'order', status: 'completed' },
    ]);
    expect(received.every((e) => e.correlationId === e.data.sagaId)).toBe(true);
    expect(await outbox.pending()).toBe(0);
  });
});
