/**
 * `pnpm bench:saga`: 4-step sagas per second and per-step overhead, in memory and on
 * PostgreSQL (fsync on), one at a time and 32 at once, next to the raw commit rate of the same
 * server in the same run (single-row INSERT per transaction from 1 and 32 clients), which is
 * what bounds a durable saga: each transition is a commit. The distributed rows run the same
 * saga with its steps in another process (a `SagaParticipant` over RabbitMQ, outcomes recorded in
 * PostgreSQL), and say where the time goes: commits, publishes and command round trips.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { DistributedSagaOrchestrator } from '@clone/distributed-saga';
import { createEventBus } from '@clone/event-bus';
import {
  createSaga,
  InMemorySagaStore,
  SagaOrchestrator,
  type SagaStepDefinition,
  type SagaStore,
} from '@clone/saga';
import { PostgresSagaStore } from '@clone/saga/postgres';
import { startPostgres, startRabbitMQ } from '@clone/test-servers';
import pg from 'pg';
import { formatNs, printTable, type Row, summarize } from './harness';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 3);
const steps: SagaStepDefinition[] = ['s1', 's2', 's3', 's4'].map((id, n) => ({
  id,
  name: id,
  service: 'bench',
  action: 'work',
  compensationAction: 'undo',
  ...(n > 0 ? { dependencies: [`s${n}`] } : {}),
}));

interface Result {
  /** Median over 250 ms windows: the machine is shared, and a burst of someone else's load should not decide the figure. */
  perSecond: number;
  done: number;
  p99Ns: number;
}

const WINDOW_MS = 250;

/** Runs `op` from `workers` loops for SECONDS; returns completions per second and latency p99. */
async function loop(workers: number, op: (worker: number) => Promise<unknown>): Promise<Result> {
  const latencies: number[] = [];
  const start = performance.now();
  const end = start + SECONDS * 1000;
  const windows = new Array<number>(Math.ceil((SECONDS * 1000) / WINDOW_MS)).fill(0);
  let done = 0;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < end) {
        const t = process.hrtime.bigint();
        await op(worker);
        latencies.push(Number(process.hrtime.bigint() - t));
        const w = Math.floor((performance.now() - start) / WINDOW_MS);
        if (w < windows.length) windows[w]!++;
        done++;
      }
    }),
  );
  const rates = windows.map((n) => (n * 1000) / WINDOW_MS).sort((a, b) => a - b);
  return { perSecond: rates[rates.length >> 1]!, done, p99Ns: summarize(latencies).p99Ns };
}

function orchestrator(store: SagaStore): SagaOrchestrator {
  const o = new SagaOrchestrator({ store, maxActiveSagas: 64 });
  o.registerStepHandler('work', (step, _ctx, exec) => ({ step: step.id, key: exec.idempotencyKey }));
  o.registerCompensationHandler('undo', () => undefined);
  return o;
}

/** Warm-up (JIT, connections, the table's first pages), then `onMeasure`, then the measured run. */
async function sagas(o: SagaOrchestrator, workers: number, onMeasure: () => void): Promise<Result> {
  await loop(workers, async () => o.waitForSaga(await o.startSaga('bench', steps, { n: 1 })));
  onMeasure();
  return loop(workers, async () => {
    const done = await o.waitForSaga(await o.startSaga('bench', steps, { n: 1 }));
    if (done.status !== 'completed') throw new Error(`saga ended ${done.status}`);
  });
}

const rows: Row[] = [];
const row = (
  name: string,
  r: Result,
  unit: string,
  baseline: string | undefined,
  extra: Record<string, string>,
): void => {
  const entry: Row = {
    name,
    value: r.perSecond,
    unit,
    extra: { ...extra, 'p99 latency': formatNs(r.p99Ns) },
  };
  if (baseline !== undefined) entry.baseline = baseline;
  rows.push(entry);
};
const label = (workers: number): string => (workers === 1 ? 'sequential' : `${workers} concurrent`);
const perStep = (r: Result, workers: number): string => formatNs(((1e9 / r.perSecond) * workers) / 4);

/** The builder: in-process, nothing stored. */
const builderSaga = (): Promise<unknown> => {
  const undo = (): undefined => undefined;
  return createSaga({ n: 1 })
    .step('s1', () => 1, undo)
    .step('s2', () => 2, undo)
    .step('s3', () => 3, undo)
    .step('s4', () => 4, undo)
    .execute();
};

const builder = await loop(1, builderSaga);
row('createSaga builder, sequential', builder, 'sagas/s', undefined, { 'per step': perStep(builder, 1) });

for (const workers of [1, 32]) {
  const memory = new InMemorySagaStore();
  const o = orchestrator(memory);
  let before = 0;
  const r = await sagas(o, workers, () => {
    before = memory.writes;
  });
  row(`orchestrator, in-memory, ${label(workers)}`, r, 'sagas/s', undefined, {
    'per step': perStep(r, workers),
    'writes/step': ((memory.writes - before) / (r.done * 4)).toFixed(2),
  });
  await o.close();
}

const server = await startPostgres({ fsync: true });
try {
  const pool = new pg.Pool({ connectionString: server.connectionString, max: 40 });
  await pool.query('CREATE TABLE raw_commits (id bigserial PRIMARY KEY, v text NOT NULL)');
  for (const workers of [1, 32]) {
    // The server's raw commit rate, measured right before the sagas it bounds (the machine is
    // shared: the closer in time, the fairer the ratio).
    const raw = `raw INSERT commit, ${workers} client${workers > 1 ? 's' : ''}`;
    const conns = await Promise.all(Array.from({ length: workers }, () => pool.connect()));
    const rawResult = await loop(workers, (worker) =>
      conns[worker]!.query('INSERT INTO raw_commits (v) VALUES ($1)', ['x']),
    );
    for (const c of conns) c.release();
    row(raw, rawResult, 'commits/s', undefined, {});

    const store = new PostgresSagaStore({
      connectionString: server.connectionString,
      table: `bench_${workers}`,
    });
    const o = orchestrator(store);
    await store.init();
    let before = { writes: 0, commits: 0 };
    const r = await sagas(o, workers, () => {
      before = { ...store.stats };
    });
    const writes = store.stats.writes - before.writes;
    const commitsPerSaga = (store.stats.commits - before.commits) / r.done;
    row(`orchestrator, PostgreSQL, ${label(workers)}`, r, 'sagas/s', raw, {
      'per step': perStep(r, workers),
      'writes/step': (writes / (r.done * 4)).toFixed(2),
      'commits/saga': commitsPerSaga.toFixed(2),
      // What the commit rate alone would allow: sagas/s if nothing but commits took time.
      'commit-bound ceiling': `${Math.round(rawResult.perSecond / commitsPerSaga).toLocaleString('en-US')} sagas/s`,
    });
    await o.close();
    await store.close();
  }
  await pool.end();
  await distributedRows(server.connectionString);
} finally {
  await server.stop();
}

/** The same saga, its steps in a participant process over RabbitMQ, beside the local durable rows. */
async function distributedRows(connectionString: string): Promise<void> {
  const broker = await startRabbitMQ();
  const child = spawn(
    process.execPath,
    [
      '--conditions=@clone/source',
      '--import',
      'tsx',
      fileURLToPath(new URL('../examples/distributed-bench-participant.ts', import.meta.url)),
    ],
    {
      env: { ...process.env, RABBITMQ_URL: broker.url, DATABASE_URL: connectionString },
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    await new Promise<void>((resolve, reject) => {
      child.once('exit', () => reject(new Error('the bench participant exited')));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        if (line.includes('"ready"')) resolve();
      });
    });
    const remote = steps.map((s) => ({ ...s, service: 'bench-remote' }));
    for (const workers of [1, 32]) {
      const bus = createEventBus({ serviceName: 'bench-orchestrator', url: broker.url });
      const store = new PostgresSagaStore({ connectionString, table: `bench_remote_${workers}` });
      const o = new DistributedSagaOrchestrator({ bus, store, maxActiveSagas: 64 });
      await store.init();
      await o.waitForParticipants({ 'bench-remote': ['work'] });
      const run = async (): Promise<void> => {
        const done = await o.waitForSaga(await o.startSaga('bench', remote, { n: 1 }));
        if (done.status !== 'completed') throw new Error(`saga ended ${done.status}`);
      };
      await loop(workers, run);
      const before = { ...store.stats, ...o.commands.getStats(), rt: { ...o.commands.getStats().roundTrip } };
      const r = await loop(workers, run);
      const after = o.commands.getStats();
      const commitsPerSaga = (store.stats.commits - before.commits) / r.done;
      const publishes = after.commandsSent + after.resends - before.commandsSent - before.resends;
      const trips = after.roundTrip.count - before.rt.count;
      const meanTripNs = ((after.roundTrip.totalMs - before.rt.totalMs) / trips) * 1e6;
      row(
        `distributed (steps in another process), ${label(workers)}`,
        r,
        'sagas/s',
        `orchestrator, PostgreSQL, ${label(workers)}`,
        {
          'per step': perStep(r, workers),
          'commits/saga': commitsPerSaga.toFixed(2),
          // Commands out and replies back: one each per step.
          'publishes/saga': ((publishes * 2) / r.done).toFixed(2),
          'command round trip': formatNs(meanTripNs),
          // Sequential floor: the steps' round trips plus the saga's commits, nothing else.
          'round trips/saga': (trips / r.done).toFixed(2),
        },
      );
      await o.close();
      await bus.close();
      await store.close();
    }
  } finally {
    child.kill('SIGKILL');
    await broker.stop();
  }
}

printTable(
  `4-step sagas (PostgreSQL fsync on, ${SECONDS} s per case, median of ${WINDOW_MS} ms windows)`,
  rows,
);
