/**
 * `pnpm bench:saga`: 4-step sagas per second and per-step overhead, in memory and on
 * PostgreSQL (fsync on), one at a time and 32 at once, next to the raw commit rate of the same
 * server in the same run (single-row INSERT per transaction from 1 and 32 clients), which is
 * what bounds a durable saga: each transition is a commit. The distributed rows run the same
 * saga with its steps in another process (a `SagaParticipant` over RabbitMQ, outcomes recorded in
 * PostgreSQL), and say where the time goes: commits, publishes and command round trips.
 */
import { type ChildProcess, spawn } from 'node:child_process';
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
import * as amqp from 'amqplib';
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
  /** Median over windows: the machine is shared, and a burst of someone else's load should not decide the figure. */
  perSecond: number;
  done: number;
  medianNs: number;
  /** Mean latency: what sums. A saga's time is the sum of its hops and commits, tails included. */
  meanNs: number;
  p99Ns: number;
}

const WINDOW_MS = 250;
/**
 * Completions a window must hold for its count to be a rate: 250 ms windows of a case that takes
 * 80 ms per saga count 2 or 3 and would report 8 or 12 sagas/s, never the 11 it runs at.
 */
const PER_WINDOW = 10;

/** Runs `op` from `workers` loops for `seconds`; returns completions per second and latencies. */
async function loop(
  workers: number,
  op: (worker: number) => Promise<unknown>,
  seconds = SECONDS,
): Promise<Result> {
  const latencies: number[] = [];
  const ends: number[] = [];
  const start = performance.now();
  const end = start + seconds * 1000;
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      while (performance.now() < end) {
        const t = process.hrtime.bigint();
        await op(worker);
        latencies.push(Number(process.hrtime.bigint() - t));
        ends.push(performance.now() - start);
      }
    }),
  );
  const elapsed = performance.now() - start;
  const windowMs = Math.max(WINDOW_MS, (PER_WINDOW * elapsed) / Math.max(ends.length, 1));
  const windows = new Array<number>(Math.max(1, Math.floor(elapsed / windowMs))).fill(0);
  for (const t of ends) {
    const w = Math.floor(t / windowMs);
    if (w < windows.length) windows[w]!++;
  }
  const rates = windows.map((n) => (n * 1000) / windowMs).sort((a, b) => a - b);
  const { medianNs, p99Ns } = summarize(latencies);
  const meanNs = latencies.reduce((sum, ns) => sum + ns, 0) / Math.max(latencies.length, 1);
  return { perSecond: rates[rates.length >> 1]!, done: ends.length, medianNs, meanNs, p99Ns };
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

/** Starts the bench participant process for `service`; resolves once it is ready. */
async function startParticipant(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--conditions=@clone/source',
      '--import',
      'tsx',
      fileURLToPath(new URL('../examples/distributed-bench-participant.ts', import.meta.url)),
    ],
    { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await new Promise<void>((resolve, reject) => {
    child.once('exit', () => reject(new Error('the bench participant exited')));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      if (line.includes('"ready"')) resolve();
    });
  });
  return child;
}

/** The same saga, its steps in a participant process over RabbitMQ, beside the local durable rows. */
async function distributedRows(connectionString: string): Promise<void> {
  const broker = await startRabbitMQ();
  const children: ChildProcess[] = [];
  let floor: FloorProbe | undefined;
  try {
    const env = { RABBITMQ_URL: broker.url, DATABASE_URL: connectionString };
    children.push(await startParticipant({ ...env, SERVICE: 'bench-remote' }));
    // The alternative for the concurrent row: a participant whose store gives every command a
    // read and a commit of its own, waiting in the pool's queue for one of its 16 connections
    // (no batching), where the default batches what would wait there.
    children.push(
      await startParticipant({ ...env, SERVICE: 'bench-unbatched', MAX_CONCURRENT_STATEMENTS: '1000' }),
    );
    // What a distributed step cannot do without, timed between the sequential sagas (so both
    // see the same moments of a shared disk): a broker hop (a confirmed publish to a quorum queue
    // until its delivery on another connection), a PostgreSQL read by key and a commit.
    floor = await floorProbe(broker.url, connectionString);
    const probe = floor;
    const cases: [string, number, string][] = [
      ['distributed (steps in another process), sequential', 1, 'bench-remote'],
      ['distributed (steps in another process), 32 concurrent', 32, 'bench-remote'],
      ['distributed, 32 concurrent, participant statements unbatched', 32, 'bench-unbatched'],
    ];
    for (const [name, workers, service] of cases) {
      const remote = steps.map((s) => ({ ...s, service }));
      const bus = createEventBus({ serviceName: 'bench-orchestrator', url: broker.url });
      const store = new PostgresSagaStore({ connectionString, table: `bench_remote_${rows.length}` });
      const o = new DistributedSagaOrchestrator({ bus, store, maxActiveSagas: 64 });
      await store.init();
      await o.waitForParticipants({ [service]: ['work'] });
      const run = async (): Promise<void> => {
        const done = await o.waitForSaga(await o.startSaga('bench', remote, { n: 1 }));
        if (done.status !== 'completed') throw new Error(`saga ended ${done.status}`);
      };
      await loop(workers, run);
      const before = { ...store.stats, ...o.commands.getStats(), rt: { ...o.commands.getStats().roundTrip } };
      // Twice as long as the local cases: a distributed saga takes tens of milliseconds. One at a
      // time, each saga is followed by one sample of the floor's operations.
      const sagaNs: number[] = [];
      const measured = await loop(
        workers,
        workers === 1
          ? async () => {
              const t = process.hrtime.bigint();
              await run();
              sagaNs.push(Number(process.hrtime.bigint() - t));
              await probe.sample();
            }
          : run,
        SECONDS * 2,
      );
      // Sequential: the rate of the sagas alone, one after the other (the floor's time left out).
      const r: Result = workers === 1 ? sequentialResult(sagaNs) : measured;
      const after = o.commands.getStats();
      const commitsPerSaga = (store.stats.commits - before.commits) / r.done;
      const publishes = after.commandsSent + after.resends - before.commandsSent - before.resends;
      const trips = after.roundTrip.count - before.rt.count;
      const meanTripNs = ((after.roundTrip.totalMs - before.rt.totalMs) / trips) * 1e6;
      row(
        name,
        r,
        'sagas/s',
        service === 'bench-unbatched'
          ? 'distributed (steps in another process), 32 concurrent'
          : `orchestrator, PostgreSQL, ${label(workers)}`,
        {
          'per step': perStep(r, workers),
          'commits/saga': commitsPerSaga.toFixed(2),
          // Commands out and replies back: one each per step.
          'publishes/saga': ((publishes * 2) / r.done).toFixed(2),
          'command round trip': formatNs(meanTripNs),
          'round trips/saga': (trips / r.done).toFixed(2),
          'saga latency': `${formatNs(r.medianNs)} (mean ${formatNs(r.meanNs)})`,
          // One at a time, a saga can take no less than its hops, reads and commits.
          ...(workers === 1 ? probe.describe(r.meanNs) : {}),
        },
      );
      await o.close();
      await bus.close();
      await store.close();
    }
  } finally {
    for (const child of children) child.kill('SIGKILL');
    await floor?.close();
    await broker.stop();
  }
}

/** A sequential run's figures from its sagas' own latencies: one at a time, rate = 1 / mean. */
function sequentialResult(latencies: number[]): Result {
  const { medianNs, p99Ns } = summarize(latencies);
  const meanNs = latencies.reduce((sum, ns) => sum + ns, 0) / Math.max(latencies.length, 1);
  return { perSecond: 1e9 / meanNs, done: latencies.length, medianNs, meanNs, p99Ns };
}

interface FloorProbe {
  /** Times 8 broker hops, 4 reads and 9 commits: what one sequential 4-step saga must wait for. */
  sample(): Promise<void>;
  /** The floor (means: a saga's time is a sum, tails included) against a saga's mean latency. */
  describe(sagaMeanNs: number): Record<string, string>;
  close(): Promise<void>;
}

/**
 * Per step a distributed saga waits for: the command's hop, the participant's read and commit,
 * the reply's hop, the orchestrator's commit (write-ahead, before the next command goes out);
 * plus the start's commit. Timed raw, with nothing of ours in between.
 */
async function floorProbe(url: string, connectionString: string): Promise<FloorProbe> {
  const publisher = await amqp.connect(url, { noDelay: true });
  const consumer = await amqp.connect(url, { noDelay: true });
  const out = await publisher.createConfirmChannel();
  const inbox = await consumer.createChannel();
  const queue = 'bench-raw-hop';
  await out.assertQueue(queue, { durable: true, arguments: { 'x-queue-type': 'quorum' } });
  let arrived: (() => void) | undefined;
  await inbox.consume(queue, (message) => {
    if (message === null) return;
    inbox.ack(message);
    arrived?.();
  });
  const db = new pg.Pool({ connectionString, max: 1 });
  await db.query('CREATE TABLE raw_floor (id bigserial PRIMARY KEY, v text NOT NULL)');
  const times = { hop: [] as number[], read: [] as number[], commit: [] as number[] };
  const timed = async (into: number[], op: () => Promise<unknown>): Promise<void> => {
    const t = process.hrtime.bigint();
    await op();
    into.push(Number(process.hrtime.bigint() - t));
  };
  const hop = (): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      arrived = resolve;
      out.sendToQueue(queue, Buffer.from('{}'), { persistent: true }, (error) => error && reject(error));
    });
  const mean = (ns: number[]): number => ns.reduce((sum, n) => sum + n, 0) / Math.max(ns.length, 1);
  return {
    async sample() {
      for (let i = 0; i < 8; i++) await timed(times.hop, hop);
      for (let i = 0; i < 4; i++)
        await timed(times.read, () => db.query('SELECT v FROM raw_floor WHERE id = $1', [1]));
      for (let i = 0; i < 9; i++)
        await timed(times.commit, () => db.query('INSERT INTO raw_floor (v) VALUES ($1)', ['x']));
    },
    describe(sagaMeanNs) {
      const [h, r, c] = [mean(times.hop), mean(times.read), mean(times.commit)];
      const floorNs = 8 * h + 4 * r + 9 * c;
      return {
        'floor parts (means)': `hop ${formatNs(h)}, read ${formatNs(r)}, commit ${formatNs(c)}`,
        floor: `${formatNs(floorNs)} (${((floorNs / sagaMeanNs) * 100).toFixed(0)} % of the mean)`,
      };
    },
    async close() {
      await publisher.close().catch(() => {});
      await consumer.close().catch(() => {});
      await db.end();
    },
  };
}

printTable(
  `4-step sagas (PostgreSQL fsync on, ${SECONDS} s per case (distributed: ${SECONDS * 2} s), median over windows of at least ${WINDOW_MS} ms and ${PER_WINDOW} completions; distributed sequential: 1 / mean saga latency)`,
  rows,
);
