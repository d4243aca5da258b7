import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { isServiceError, ServiceErrorCode } from '@clone/service-errors';
import { type PostgresServer, startPostgres } from '@clone/test-servers';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createEffectsTable, registerHandlers, stepsFor } from '../test/saga-fixture';
import { storedRecord } from '../test/stored-record';
import { registerEcho, UNSAFE_IDS, unsafeChain } from '../test/unsafe-ids';
import { SagaOrchestrator } from './orchestrator';
import { PostgresSagaStore } from './postgres';
import type { SagaRecord } from './store';

let server: PostgresServer;
let pool: pg.Pool;
const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
const childPath = fileURLToPath(new URL('../test/crash-child.ts', import.meta.url));

beforeAll(async () => {
  server = await startPostgres();
  pool = new pg.Pool({ connectionString: server.connectionString, max: 10 });
  await createEffectsTable(pool);
});

afterAll(async () => {
  await pool?.end();
  await server?.stop();
});

const record = storedRecord;

/** Runs the crash child until `ready(counts)` holds, then SIGKILLs it. */
/** Names the child's sessions on the server. */
const CHILD_APP = 'saga_crash_child';

async function runChildAndKill(
  env: Record<string, string>,
  ready: (counts: Record<string, number>) => boolean,
): Promise<void> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@clone/source', childPath],
    {
      cwd: repoRoot,
      env: { ...process.env, PG_URL: `${server.connectionString}?application_name=${CHILD_APP}`, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  try {
    await vi.waitFor(
      async () => {
        if (child.exitCode !== null) throw new Error(`child exited early: ${stderr}`);
        const { rows } = await pool
          .query<{ status: string; n: number }>(
            `SELECT status, count(*)::int AS n FROM ${env.SAGA_TABLE} GROUP BY status`,
          )
          .catch(() => ({ rows: [] as Array<{ status: string; n: number }> }));
        const counts = Object.fromEntries(rows.map((r) => [r.status, r.n]));
        if (!ready(counts)) throw new Error(`not yet: ${JSON.stringify(counts)}`);
      },
      { timeout: 20_000, interval: 10 },
    );
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  // A statement the child had sent still runs (and commits) on the server after the kill: the
  // state "at the crash" is only known once the server has ended every session of the child.
  await vi.waitFor(
    async () => {
      const { rows } = await pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = $1',
        [CHILD_APP],
      );
      expect(rows[0]!.n).toBe(0);
    },
    { timeout: 10_000, interval: 20 },
  );
}

async function effectRuns(): Promise<Map<string, number>> {
  const { rows } = await pool.query<{ key: string; kind: string; runs: number }>(
    'SELECT key, kind, runs FROM effects',
  );
  return new Map(rows.map((r) => [`${r.kind} ${r.key}`, r.runs]));
}

async function loadAll(table: string): Promise<SagaRecord[]> {
  const { rows } = await pool.query<{ state: SagaRecord }>(
    `SELECT definition || state AS state FROM ${table} ORDER BY id`,
  );
  return rows.map((r) => r.state);
}

describe('PostgresSagaStore', () => {
  it('creates the schema, and migrates an older one, once even when many processes start together', async () => {
    await pool.query(
      `CREATE TABLE t_mig_migrations (version int PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    await pool.query(`CREATE TABLE t_mig (id text PRIMARY KEY, type text NOT NULL, correlation_id text, status text NOT NULL,
      definition jsonb NOT NULL, state jsonb NOT NULL, owner text NOT NULL, lease_until timestamptz NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())`);
    await pool.query(`INSERT INTO t_mig_migrations (version) VALUES (1)`);
    const stores = Array.from({ length: 4 }, () => new PostgresSagaStore({ pool, table: 't_mig' }));
    await Promise.all(stores.map((s) => s.init()));
    const { rows } = await pool.query<{ version: number }>(
      'SELECT version FROM t_mig_migrations ORDER BY version',
    );
    expect(rows.map((r) => r.version)).toEqual([1, 2]);
    const idx = await pool.query(
      `SELECT indexname FROM pg_indexes WHERE tablename = 't_mig' AND indexname = 't_mig_correlation'`,
    );
    expect(idx.rowCount).toBe(1);
  });

  it('fences writes by lease owner, refuses duplicate creates, and group-commits concurrent writes', async () => {
    const store = new PostgresSagaStore({ pool, table: 't_fence', maxConcurrentCommits: 1 });
    await store.init();
    expect(await store.write({ record: record('x'), owner: 'me', leaseMs: 60_000, create: true })).toBe(true);
    expect(await store.write({ record: record('x'), owner: 'me', leaseMs: 60_000, create: true })).toBe(
      false,
    );
    expect(await store.write({ record: record('x'), owner: 'other', leaseMs: 60_000, create: false })).toBe(
      false,
    );
    const updated = { ...record('x'), cancelReason: 'changed' };
    expect(await store.write({ record: updated, owner: 'me', leaseMs: 60_000, create: false })).toBe(true);
    expect((await store.load('x'))?.cancelReason).toBe('changed');

    const before = { ...store.stats };
    const results = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        store.write({ record: record(`g${i}`), owner: 'me', leaseMs: 60_000, create: true }),
      ),
    );
    expect(results.every(Boolean)).toBe(true);
    expect(store.stats.writes - before.writes).toBe(100);
    // One commit in flight at a time: the other 99 writes queue behind it and share commits.
    expect(store.stats.commits - before.commits).toBeLessThan(100);
    expect(await store.renew('me', ['x', 'g1', 'nope'], 60_000)).toEqual(expect.arrayContaining(['x', 'g1']));
    expect(await store.renew('other', ['x'], 60_000)).toEqual([]);

    await store.write({ record: record('x', 'completed'), owner: 'me', leaseMs: 60_000, create: false });
    expect(await store.deleteFinished(60_000)).toBe(0);
    expect(await store.deleteFinished(0)).toBe(1);
    expect(await store.load('x')).toBeUndefined();
    expect(await store.load('g1')).toBeDefined();
  });

  it('hands each expired saga to exactly one of several concurrent claimers (SKIP LOCKED)', async () => {
    const seed = new PostgresSagaStore({ pool, table: 't_claim' });
    await seed.init();
    await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        seed.write({ record: record(`c${i}`), owner: 'dead', leaseMs: 1, create: true }),
      ),
    );
    await seed.write({ record: record('done', 'completed'), owner: 'dead', leaseMs: 1, create: true });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const claimers = Array.from(
      { length: 4 },
      () => new PostgresSagaStore({ connectionString: server.connectionString, table: 't_claim' }),
    );
    const claims = await Promise.all(claimers.map((s, i) => s.claim(`o${i}`, 60_000, 20)));
    const ids = claims.flat().map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.sort()).toEqual(Array.from({ length: 60 }, (_, i) => `c${i}`).sort());
    expect(claims.filter((c) => c.length > 0).length).toBeGreaterThan(1);
    // The old owner is fenced off now.
    expect(await seed.write({ record: record('c0'), owner: 'dead', leaseMs: 1, create: false })).toBe(false);
    await Promise.all(claimers.map((s) => s.close()));
  });

  it('deletes finished sagas by age, and refuses an age that is not a non-negative integer', async () => {
    const store = new PostgresSagaStore({ pool, table: 't_delete' });
    await store.init();
    await store.write({ record: record('old', 'completed'), owner: 'o', leaseMs: 1, create: true });
    await store.write({ record: record('active'), owner: 'o', leaseMs: 1, create: true });
    for (const age of [-1, 1.5, Number.NaN]) {
      // -1 used to delete finished sagas of any age, NaN to fail as if the database were down.
      const error = await store.deleteFinished(age).catch((e: unknown) => e);
      expect(isServiceError(error, ServiceErrorCode.BAD_REQUEST), String(error)).toBe(true);
      expect((error as Error).message).toContain('olderThanMs');
    }
    expect(await store.deleteFinished(60_000)).toBe(0);
    expect(await store.deleteFinished(0)).toBe(1);
    expect(await store.load('old')).toBeUndefined();
    expect((await store.load('active'))?.status).toBe('running');
  });

  it('validates its options', () => {
    expect(() => new PostgresSagaStore({})).toThrow(/either pool or connectionString/);
    expect(() => new PostgresSagaStore({ pool, table: 'Robert"; DROP' })).toThrow(
      /table must be a lower-case SQL identifier/,
    );
  });
});

describe('SagaOrchestrator on PostgreSQL', () => {
  it('costs n + 1 writes for an n-step chain and reads back as written', async () => {
    const store = new PostgresSagaStore({ pool, table: 't_writes' });
    const o = new SagaOrchestrator({ store });
    registerHandlers(o, pool, { maxPauseMs: 0, owner: 'writes' });
    const before = store.stats.writes;
    const id = await o.startSaga('fixture', stepsFor(1), { i: 1 });
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect(store.stats.writes - before).toBe(5);
    const loaded = await o.loadSaga(id);
    expect(loaded?.completedSteps).toEqual(['s1', 's2', 's3', 's4']);
    expect(loaded?.stepResults.get('s4')).toEqual({ step: 's4', key: `${id}:s4` });
    await o.close();
  });

  it('reports a step result PostgreSQL cannot store at the step that produced it', async () => {
    const store = new PostgresSagaStore({ pool, table: 't_nul' });
    const o = new SagaOrchestrator({ store });
    o.registerStepHandler('nul', () => ({ text: 'a\u0000b' }));
    const id = await o.startSaga('t', [{ id: 'nul', name: 'nul', service: 's', action: 'nul' }], {});
    const done = await o.waitForSaga(id);
    expect(done.status).toBe('compensated');
    expect(done.error?.message).toContain(
      "step 'nul' returned a result that cannot be stored as JSON: $.text contains a NUL",
    );
    await o.close();
  });

  it('after kill -9 mid-flight, every saga ends completed or compensated and no recorded step runs again', async () => {
    const table = 't_crash';
    await new PostgresSagaStore({ pool, table }).init();
    await runChildAndKill(
      { SAGA_COUNT: '200', SAGA_TABLE: table, LEASE_MS: '1000', PAUSE_MS: '40' },
      (c) =>
        Object.values(c).reduce((a, b) => a + b, 0) === 200 &&
        (c.completed ?? 0) >= 20 &&
        (c.compensating ?? 0) >= 2 &&
        (c.running ?? 0) >= 10,
    );
    // The log as the dead process left it, and the side effects as they were at that moment.
    const atCrash = await loadAll(table);
    const runsAtCrash = await effectRuns();
    expect(atCrash.length).toBe(200);
    const midStep = atCrash.filter(
      (s) => s.status === 'running' && Object.values(s.stepStates).some((t) => t.status === 'running'),
    );
    const midCompensation = atCrash.filter((s) => s.status === 'compensating');
    expect(midStep.length).toBeGreaterThan(0);
    expect(midCompensation.length).toBeGreaterThan(0);

    const o = new SagaOrchestrator({
      store: new PostgresSagaStore({ pool, table }),
      leaseMs: 1_000,
      recoveryIntervalMs: 100,
      maxActiveSagas: 1_000,
    });
    registerHandlers(o, pool, { maxPauseMs: 5, owner: 'recovery' });
    const recovered: string[] = [];
    o.on('saga:recovered', (e) => recovered.push(e.sagaId));
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE status IN ('running', 'compensating')`,
        );
        expect(rows[0]!.n).toBe(0);
      },
      { timeout: 30_000, interval: 100 },
    );
    await o.close();

    const after = await loadAll(table);
    const runsAfter = await effectRuns();
    expect(after.map((s) => s.status).filter((s) => s !== 'completed' && s !== 'compensated')).toEqual([]);
    expect(new Set(recovered)).toEqual(
      new Set(atCrash.filter((s) => s.status === 'running' || s.status === 'compensating').map((s) => s.id)),
    );

    let rerun = 0;
    for (const saga of atCrash) {
      for (const [stepId, state] of Object.entries(saga.stepStates)) {
        const key = `${saga.id}:${stepId}`;
        // Completion recorded: the action never runs again.
        if (saga.completionOrder.includes(stepId))
          expect(runsAfter.get(`do ${key}`), key).toBe(runsAtCrash.get(`do ${key}`));
        // Compensation recorded: it never runs again either.
        if (state.status === 'compensated')
          expect(runsAfter.get(`undo ${key}`), key).toBe(runsAtCrash.get(`undo ${key}`));
        // May have run: run again exactly once, with the same key.
        const extra = (runsAfter.get(`do ${key}`) ?? 0) - (runsAtCrash.get(`do ${key}`) ?? 0);
        const action = saga.steps.find((d) => d.id === stepId)!.action;
        if (state.status === 'running' && action === 'work') {
          expect(extra, key).toBe(1);
          rerun++;
        } else expect(extra, key).toBeLessThanOrEqual(1);
      }
    }
    expect(rerun).toBeGreaterThan(0);
    for (const saga of after) {
      const i = Number(saga.id.slice('saga-'.length));
      const keys = ['s1', 's2', 's3', 's4'].map((s) => `${saga.id}:${s}`);
      if (i % 3 === 0) {
        // Failed at s3: s1 and s2 done and undone, s3 and s4 never had an effect.
        expect(saga.status, saga.id).toBe('compensated');
        expect(keys.map((k) => [runsAfter.has(`do ${k}`), runsAfter.has(`undo ${k}`)])).toEqual([
          [true, true],
          [true, true],
          [false, false],
          [false, false],
        ]);
      } else {
        expect(saga.status, saga.id).toBe('completed');
        expect(keys.map((k) => [runsAfter.has(`do ${k}`), runsAfter.has(`undo ${k}`)])).toEqual(
          keys.map(() => [true, false]),
        );
      }
    }
  });

  it('two orchestrators on one database split the orphaned sagas without overlap', async () => {
    const table = 't_split';
    await new PostgresSagaStore({ pool, table }).init();
    // Every saga of the child hangs in s2: all 60 are left mid-step.
    await runChildAndKill(
      { SAGA_COUNT: '60', SAGA_TABLE: table, LEASE_MS: '500', PAUSE_MS: '0', HANG: 's2' },
      (c) => (c.running ?? 0) >= 60,
    );
    await pool.query(`DELETE FROM effects WHERE key LIKE 'saga-%' AND owner NOT LIKE 'child%'`);
    const runsAtCrash = await effectRuns();
    const ran = new Map<string, string[]>();
    const stores: PostgresSagaStore[] = [];
    const make = (name: string): SagaOrchestrator => {
      const store = new PostgresSagaStore({ connectionString: server.connectionString, table });
      stores.push(store);
      const o = new SagaOrchestrator({
        store,
        orchestratorId: name,
        leaseMs: 2_000,
        recoveryIntervalMs: 50,
        maxActiveSagas: 10,
      });
      registerHandlers(o, pool, { maxPauseMs: 20, owner: name });
      o.on('saga:recovered', (e) => ran.set(e.sagaId, [...(ran.get(e.sagaId) ?? []), name]));
      return o;
    };
    const a = make('a');
    const b = make('b');
    await vi.waitFor(
      async () => {
        const { rows } = await pool.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM ${table} WHERE status = 'running'`,
        );
        expect(rows[0]!.n).toBe(0);
      },
      { timeout: 30_000, interval: 100 },
    );
    await Promise.all([a.close(), b.close()]);
    await Promise.all(stores.map((s) => s.close()));
    expect(ran.size).toBe(60);
    expect([...ran.values()].filter((owners) => owners.length !== 1)).toEqual([]);
    const byA = [...ran.values()].filter(([o]) => o === 'a').length;
    expect(byA).toBeGreaterThan(0);
    expect(byA).toBeLessThan(60);
    const runsAfter = await effectRuns();
    const { rows } = await pool.query<{ key: string; kind: string; owner: string }>(
      `SELECT key, kind, owner FROM effects WHERE key LIKE 'saga-%' AND key IN (SELECT id || ':' || s FROM ${table}, unnest(ARRAY['s1','s2','s3','s4']) s)`,
    );
    for (const row of rows) {
      const key = `${row.kind} ${row.key}`;
      // Each effect after the crash came from exactly one orchestrator, once.
      expect((runsAfter.get(key) ?? 0) - (runsAtCrash.get(key) ?? 0), key).toBeLessThanOrEqual(1);
      const owners = row.owner.split(',').filter((x) => x !== 'child');
      expect(new Set(owners).size, key).toBeLessThanOrEqual(1);
    }
    const sagas = await loadAll(table);
    expect(sagas.every((s) => s.status === 'completed' || s.status === 'compensated')).toBe(true);
  });
});

describe('step ids are user data on PostgreSQL', () => {
  it("'__proto__', 'constructor' and 'prototype' are stored, passed on, recovered and compensated", async () => {
    const table = 't_unsafe_ids';
    const first = new SagaOrchestrator({ store: new PostgresSagaStore({ pool, table }) });
    registerEcho(first, []);
    const id = await first.startSaga('unsafe', unsafeChain(), {});
    const done = await first.waitForSaga(id);
    expect(done.status).toBe('completed');
    expect([...done.stepResults.keys()]).toEqual([...UNSAFE_IDS]);
    const loaded = await first.loadSaga(id);
    expect(loaded?.stepResults.get('__proto__')).toEqual({ id: '__proto__', seen: [], before: [] });
    expect(loaded?.stepStates[UNSAFE_IDS[0]]?.status).toBe('completed');
    expect((loaded!.stepResults.get('prototype') as { seen: string[] }).seen).toEqual([
      '__proto__',
      'constructor',
    ]);

    // Interrupted after '__proto__' completed: another orchestrator recovers and compensates it.
    let entered!: () => void;
    const gate = new Promise<void>((resolve) => {
      entered = resolve;
    });
    first.registerStepHandler('hang', () => {
      entered();
      return new Promise(() => {});
    });
    const steps = [
      ...unsafeChain().slice(0, 1),
      { id: 'constructor', name: 'c', service: 's', action: 'hang', dependencies: ['__proto__'] },
    ];
    const interrupted = await first.startSaga('unsafe', steps, {});
    await gate;
    await first.close({ drainTimeoutMs: 0 });
    const second = new SagaOrchestrator({
      store: new PostgresSagaStore({ pool, table }),
      recoveryPolicy: 'compensate',
    });
    const undone: string[] = [];
    registerEcho(second, undone);
    second.registerStepHandler('hang', () => 'unused');
    expect(await second.recover()).toEqual([interrupted]);
    const compensated = await second.waitForSaga(interrupted);
    expect(compensated.status).toBe('compensated');
    expect(compensated.stepStates[UNSAFE_IDS[0]]?.status).toBe('compensated');
    expect(undone).toEqual(['__proto__ {"id":"__proto__","seen":[],"before":[]}']);
    await second.close();
  });
});
