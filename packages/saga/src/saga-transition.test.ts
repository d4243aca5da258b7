import { type PostgresServer, startPostgres } from '@clone/test-servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedRecord } from '../test/stored-record';
import { SagaOrchestrator } from './orchestrator';
import { PostgresSagaStore } from './postgres';
import type { SagaTransition } from './saga-transition';

// The transition hook: what it writes commits or rolls back with the saga's state (how saga
// events go through a transactional outbox).

let server: PostgresServer;
let pool: pg.Pool;

beforeAll(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.connectionString, max: 10 });
  await pool.query(
    'CREATE TABLE saga_events (saga_id text NOT NULL, status text NOT NULL, created boolean NOT NULL)',
  );
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

async function eventsOf(id: string): Promise<string[]> {
  const { rows } = await pool.query<{ status: string; created: boolean }>(
    'SELECT status, created FROM saga_events WHERE saga_id = $1 ORDER BY ctid',
    [id],
  );
  return rows.map((r) => (r.created ? `${r.status} (created)` : r.status));
}

const record = storedRecord;

describe('PostgresSagaStore onTransition', () => {
  it('runs in the transaction of every applied write, with the status and error it records', async () => {
    const seen: SagaTransition[] = [];
    const store = new PostgresSagaStore({
      pool,
      table: 'hook_sagas',
      onTransition: async (client, transition) => {
        seen.push(transition);
        await client.query('INSERT INTO saga_events VALUES ($1, $2, $3)', [
          transition.id,
          transition.status,
          transition.created,
        ]);
      },
    });
    const o = new SagaOrchestrator({ store });
    o.registerStepHandler('ok', () => ({ done: true }));
    o.registerStepHandler('boom', () => {
      throw new Error('no');
    });
    o.registerCompensationHandler('undo', () => undefined);
    const good = await o.startSaga('order', [{ id: 'a', name: 'a', service: 's', action: 'ok' }], {});
    const bad = await o.startSaga(
      'order',
      [
        { id: 'a', name: 'a', service: 's', action: 'ok', compensationAction: 'undo' },
        { id: 'b', name: 'b', service: 's', action: 'boom', dependencies: ['a'] },
      ],
      {},
    );
    expect((await o.waitForSaga(good)).status).toBe('completed');
    expect((await o.waitForSaga(bad)).status).toBe('compensated');
    await o.close();

    const goodEvents = await eventsOf(good);
    expect(goodEvents[0]).toBe('running (created)');
    expect(goodEvents.at(-1)).toBe('completed');
    expect(goodEvents.filter((s) => s === 'completed')).toHaveLength(1);
    const badEvents = await eventsOf(bad);
    expect(badEvents).toContain('compensating');
    expect(badEvents.at(-1)).toBe('compensated');
    const final = seen.find((t) => t.id === bad && t.status === 'compensated');
    expect(final).toMatchObject({ type: 'order', created: false, error: { step: 'b' } });
  });

  it('rolls the state back with what the hook wrote when the hook throws, and calls nothing for a fenced write', async () => {
    const calls: string[] = [];
    const store = new PostgresSagaStore({
      pool,
      table: 'hook_atomic',
      maxConcurrentCommits: 1,
      onTransition: async (client, t) => {
        calls.push(`${t.id}:${t.status}`);
        await client.query('INSERT INTO saga_events VALUES ($1, $2, $3)', [t.id, t.status, t.created]);
        if (t.status === 'completed') throw new Error('outbox full');
      },
    });
    await store.init();
    expect(
      await store.write({ record: record('x', 'running'), owner: 'me', leaseMs: 60_000, create: true }),
    ).toBe(true);
    const failed = await store
      .write({ record: record('x', 'completed'), owner: 'me', leaseMs: 60_000, create: false })
      .catch((e: unknown) => e);
    expect(failed).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(String((failed as Error).message)).toContain('outbox full');
    // Neither the completed state nor the row the hook wrote before it threw.
    expect((await store.load('x'))?.status).toBe('running');
    expect(await eventsOf('x')).toEqual(['running (created)']);
    // A write fenced off by the lease (another owner) applies nothing and calls nothing.
    calls.length = 0;
    expect(
      await store.write({
        record: record('x', 'compensating'),
        owner: 'other',
        leaseMs: 60_000,
        create: false,
      }),
    ).toBe(false);
    expect(calls).toEqual([]);
    await store.close();
  });

  it('refuses a hook that is not a function, naming it', () => {
    expect(() => new PostgresSagaStore({ pool, onTransition: 'insert' as never })).toThrow(/onTransition/);
  });
});
