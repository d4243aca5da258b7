import { type PostgresServer, startPostgres } from '@clone/test-servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RecordedOutcome } from './participant-store';
import { PostgresParticipantStore } from './postgres-participant-store';

let server: PostgresServer;
let pool: pg.Pool;
let tables = 0;

beforeAll(async () => {
  server = await startPostgres({ fsync: false });
  pool = new pg.Pool({ connectionString: server.connectionString, max: 8 });
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

async function store(options: { maxConcurrentStatements?: number } = {}): Promise<PostgresParticipantStore> {
  const made = new PostgresParticipantStore({ pool, table: `participant_${++tables}`, ...options });
  await made.init();
  return made;
}

const ok = (result: string): RecordedOutcome => ({ status: 'succeeded', result });

describe('PostgresParticipantStore', () => {
  it('records once: a later record learns the outcome recorded first', async () => {
    const s = await store();
    const first = ok('a');
    expect(await s.record('c1', first)).toBe(first);
    expect(await s.record('c1', { status: 'cancelled' })).toEqual(first);
    expect(await s.get('c1')).toEqual(first);
    expect(await s.get('nothing')).toBeUndefined();
  });

  it('answers many concurrent records and reads in shared statements, first write wins within one', async () => {
    // One statement in flight: everything submitted meanwhile goes into the next one together.
    const s = await store({ maxConcurrentStatements: 1 });
    await s.record('old', { status: 'cancelled' });
    const outcomes = Array.from({ length: 40 }, (_, i) => ok(`r${i}`));
    const cancel: RecordedOutcome = { status: 'cancelled' };
    const [, ...results] = await Promise.all([
      // Takes the one statement alone; the records below queue behind it and share the next.
      s.record('blocker', ok('b')),
      ...outcomes.map((o, i) => s.record(`c${i}`, o)),
      // The same command twice in one batch: the first one submitted is recorded.
      s.record('c0', cancel),
      // Recorded before the batch: the recorded outcome stands.
      s.record('old', ok('late')),
    ]);
    for (let i = 0; i < 40; i++) expect(results[i]).toBe(outcomes[i]);
    expect(results[40]).toEqual(outcomes[0]);
    expect(results[41]).toEqual({ status: 'cancelled' });
    const reads = await Promise.all([
      ...outcomes.map((_, i) => s.get(`c${i}`)),
      s.get('old'),
      s.get('missing'),
    ]);
    expect(reads.slice(0, 40)).toEqual(outcomes);
    expect(reads.slice(40)).toEqual([{ status: 'cancelled' }, undefined]);
    const { rows } = await pool.query(`SELECT count(*)::int AS n FROM participant_${tables}`);
    expect(rows[0].n).toBe(42);
  });

  it('fails every command of a statement that fails, with SERVICE_UNAVAILABLE', async () => {
    const s = new PostgresParticipantStore({ pool, table: 'never_created' });
    await expect(Promise.all([s.get('a'), s.get('b')])).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringContaining('could not read an outcome'),
    });
    await expect(s.record('a', ok('x'))).rejects.toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
  });
});
