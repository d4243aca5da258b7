/**
 * `pnpm bench:policies`: @clone/service-errors policies against cockatiel 3.2, cockatiel 4.0
 * (when it loads) and opossum, same process run.
 * 1. Success path: breaker, retry, and retry + breaker + timeout composed.
 * 2. Fail once then succeed with a zero delay, against a plain try/catch loop.
 * 3. Rejection by an open circuit.
 * 4. Heap bytes and timers per breaker, 10,000 of each (`--expose-gc` turned on at run time).
 * 5. CPU used while idle for 3 s with 10,000 live breakers (the lower of two windows).
 * 6. The cost of @clone/telemetry on executeServiceCall and on composed policies: uninstrumented,
 *    instrumented with no SDK registered, and with the SDK (metrics, a batch span processor).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ServiceCommunicationManager } from '@clone/grpc-proto';
import {
  CircuitBreaker,
  compose,
  RetryPolicy,
  ServiceError,
  ServiceErrorCode,
  Timeout,
} from '@clone/service-errors';
import {
  instrumentCircuitBreaker,
  instrumentCommunication,
  instrumentRetryPolicy,
  traceCommunication,
} from '@clone/telemetry';
import type { MeterProvider } from '@opentelemetry/sdk-metrics';
import * as cockatiel3 from 'cockatiel';
import OpossumBreaker from 'opossum';
import { measure, printTable, type Row } from './harness';
import { otelSdk } from './otel-sdk';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

type Cockatiel = typeof cockatiel3;
let cockatiel4: Cockatiel | undefined;
try {
  cockatiel4 = (await import('cockatiel4')) as unknown as Cockatiel;
} catch (error) {
  process.stdout.write(`cockatiel 4 does not load here: ${(error as Error).message}\n`);
}
const cockatiels: Array<[string, Cockatiel]> = [['cockatiel 3.2', cockatiel3]];
if (cockatiel4) cockatiels.push(['cockatiel 4.0', cockatiel4]);

const ok = async (): Promise<number> => 1;
const noop = (): void => {};
const quick = { samples: 40, warmupMs: 150 } as const;

async function time(fn: () => unknown, options: Parameters<typeof measure>[1] = quick): Promise<number> {
  gc();
  return (await measure(fn, options)).medianNs;
}

function cockatielBreaker(c: Cockatiel) {
  return c.circuitBreaker(c.handleAll, { halfOpenAfter: 60_000, breaker: new c.ConsecutiveBreaker(5) });
}
function cockatielRetry(c: Cockatiel, delay?: number) {
  return c.retry(c.handleAll, {
    maxAttempts: 3,
    backoff: delay === undefined ? new c.ExponentialBackoff() : new c.ConstantBackoff(delay),
  });
}

// ---------------------------------------------------------------- 1. success path
async function successPath(): Promise<void> {
  const rows: Row[] = [];
  const add = async (name: string, fn: () => unknown, baseline?: string) => {
    rows.push({ name, value: await time(fn), unit: 'ns', ...(baseline ? { baseline } : {}) });
  };
  await add('bare await fn()', () => ok());

  const breaker = new CircuitBreaker({ failureThreshold: 5, resetTimeoutMs: 60_000 });
  await add('ours: CircuitBreaker', () => breaker.execute(ok), 'cockatiel 3.2: breaker');
  for (const [name, c] of cockatiels) {
    const b = cockatielBreaker(c);
    await add(`${name}: breaker`, () => b.execute(ok), 'cockatiel 3.2: breaker');
  }
  const opossum = new OpossumBreaker(ok, { timeout: false, resetTimeout: 60_000 });
  await add('opossum: breaker (no timeout)', () => opossum.fire(), 'cockatiel 3.2: breaker');
  opossum.shutdown();

  const retry = new RetryPolicy({ maxAttempts: 3 });
  await add('ours: RetryPolicy', () => retry.execute(ok), 'cockatiel 3.2: retry');
  for (const [name, c] of cockatiels) {
    const r = cockatielRetry(c);
    await add(`${name}: retry`, () => r.execute(ok), 'cockatiel 3.2: retry');
  }

  const composed = compose({
    retry: new RetryPolicy({ maxAttempts: 3 }),
    circuitBreaker: new CircuitBreaker({ failureThreshold: 5, resetTimeoutMs: 60_000 }),
    timeout: new Timeout({ timeoutMs: 30_000 }),
  });
  await add('ours: retry+breaker+timeout', () => composed.execute(ok), 'cockatiel 3.2: wrap(retry, breaker)');
  const usageBreaker = new CircuitBreaker({ failureThreshold: 5, successThreshold: 2, timeout: 30_000 });
  const usageComposed = compose(new RetryPolicy({ maxAttempts: 3 }), usageBreaker);
  await add(
    'ours: retry+breaker(timeout option)',
    () => usageComposed.execute(ok),
    'cockatiel 3.2: wrap(retry, breaker)',
  );
  for (const [name, c] of cockatiels) {
    const w2 = c.wrap(cockatielRetry(c), cockatielBreaker(c));
    await add(`${name}: wrap(retry, breaker)`, () => w2.execute(ok), 'cockatiel 3.2: wrap(retry, breaker)');
    const w3 = c.wrap(
      cockatielRetry(c),
      cockatielBreaker(c),
      c.timeout(30_000, c.TimeoutStrategy.Cooperative),
    );
    await add(
      `${name}: wrap(retry, breaker, timeout)`,
      () => w3.execute(ok),
      'cockatiel 3.2: wrap(retry, breaker)',
    );
  }
  const opossumTimed = new OpossumBreaker(ok, { timeout: 30_000, resetTimeout: 60_000 });
  await add('opossum: breaker + timeout', () => opossumTimed.fire(), 'cockatiel 3.2: wrap(retry, breaker)');
  opossumTimed.shutdown();
  printTable('Success path (time per call, sequential)', rows);
}

// ---------------------------------------------------------------- 2. fail once, zero delay
async function failOnce(): Promise<void> {
  const failingOnce = () => {
    let failed = false;
    return async (): Promise<number> => {
      if (!failed) {
        failed = true;
        throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'flaky');
      }
      return 1;
    };
  };
  const rows: Row[] = [];
  const plain = async () => {
    const fn = failingOnce();
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (error) {
        if (attempt >= 3) throw error;
      }
    }
  };
  rows.push({ name: 'plain try/catch loop', value: await time(plain), unit: 'ns' });
  const ours = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0 });
  rows.push({
    name: 'ours: RetryPolicy (initialDelayMs 0)',
    value: await time(() => ours.execute(failingOnce())),
    unit: 'ns',
    baseline: 'plain try/catch loop',
  });
  const oursComposed = compose(
    new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0 }),
    new CircuitBreaker({ failureThreshold: 1_000_000 }),
    new Timeout({ timeoutMs: 30_000 }),
  );
  rows.push({
    name: 'ours: retry+breaker+timeout',
    value: await time(() => oursComposed.execute(failingOnce())),
    unit: 'ns',
    baseline: 'plain try/catch loop',
  });
  for (const [name, c] of cockatiels) {
    const r = cockatielRetry(c, 0);
    // Each call waits a clamped setTimeout(0): ~1 ms, so fewer samples.
    rows.push({
      name: `${name}: retry (ConstantBackoff 0)`,
      value: await time(() => r.execute(failingOnce()), { samples: 10, warmupMs: 50, opsPerSample: 20 }),
      unit: 'ns',
      baseline: 'plain try/catch loop',
    });
  }
  printTable('Fail once, then succeed, zero delay (time per call)', rows);
}

// ---------------------------------------------------------------- 3. open circuit
async function openCircuit(): Promise<void> {
  const rows: Row[] = [];
  const ours = new CircuitBreaker({ failureThreshold: 1 });
  ours.isolate();
  rows.push({
    name: 'ours: CircuitBreaker (open)',
    value: await time(() => ours.execute(ok).catch(noop)),
    unit: 'ns',
    baseline: 'cockatiel 3.2: breaker (isolated)',
  });
  for (const [name, c] of cockatiels) {
    const b = cockatielBreaker(c);
    b.isolate();
    rows.push({
      name: `${name}: breaker (isolated)`,
      value: await time(() => b.execute(ok).catch(noop)),
      unit: 'ns',
      baseline: 'cockatiel 3.2: breaker (isolated)',
    });
  }
  const opossum = new OpossumBreaker(ok, { timeout: false });
  opossum.open();
  rows.push({
    name: 'opossum: breaker (open)',
    value: await time(() => opossum.fire().catch(noop)),
    unit: 'ns',
    baseline: 'cockatiel 3.2: breaker (isolated)',
  });
  opossum.shutdown();
  printTable('Open circuit: rejection (time per call)', rows);
}

// ---------------------------------------------------------------- 4 + 5. memory, timers, idle CPU
const N = 10_000;

/**
 * CPU (all threads) used over 3 s of idling: the lower of two windows, since a stray background
 * task of the runtime (a GC, the loader thread) lands in one window of one population per run.
 */
async function idleCpuMs(): Promise<number> {
  let best = Number.POSITIVE_INFINITY;
  for (let i = 0; i < 2; i++) {
    const before = process.cpuUsage();
    await new Promise((r) => setTimeout(r, 3_000));
    const used = process.cpuUsage(before);
    best = Math.min(best, (used.user + used.system) / 1000);
  }
  return best;
}

/**
 * Counts timers started and still pending (setTimeout not yet fired or cleared, setInterval
 * not cleared) while installed. `process.getActiveResourcesInfo()` cannot: it leaves out
 * unref'd timers, which is what libraries use.
 */
function trackTimers(): { live: () => number; restore: () => void } {
  const g = globalThis as unknown as Record<string, (...args: any[]) => any>;
  const original = {
    setTimeout: g.setTimeout!,
    setInterval: g.setInterval!,
    clearTimeout: g.clearTimeout!,
    clearInterval: g.clearInterval!,
  };
  const live = new Set<unknown>();
  g.setTimeout = (cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = original.setTimeout(() => {
      live.delete(handle);
      cb(...args);
    }, ms);
    live.add(handle);
    return handle;
  };
  g.setInterval = (cb: (...a: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const handle = original.setInterval(cb, ms, ...args);
    live.add(handle);
    return handle;
  };
  g.clearTimeout = (handle: unknown) => {
    live.delete(handle);
    original.clearTimeout(handle);
  };
  g.clearInterval = (handle: unknown) => {
    live.delete(handle);
    original.clearInterval(handle);
  };
  return { live: () => live.size, restore: () => Object.assign(g, original) };
}

interface Population {
  name: string;
  create: () => unknown;
  /** Optional: one successful call on each instance before measuring. */
  touch?: (instance: any) => Promise<unknown>;
  dispose?: (instance: any) => void;
}

async function footprint(): Promise<void> {
  const populations: Population[] = [
    { name: 'ours: CircuitBreaker', create: () => new CircuitBreaker({ failureThreshold: 5 }) },
    {
      name: 'ours: CircuitBreaker, after 1 call',
      create: () => new CircuitBreaker({ failureThreshold: 5 }),
      touch: (b: CircuitBreaker) => b.execute(ok),
    },
    {
      name: 'ours: CircuitBreaker (documented options, timeout)',
      create: () =>
        new CircuitBreaker({
          failureThreshold: 5,
          successThreshold: 2,
          timeout: 30_000,
          resetTimeoutMs: 60_000,
        }),
      touch: (b: CircuitBreaker) => b.execute(ok),
    },
    ...cockatiels.map(
      ([name, c]): Population => ({
        name: `${name}: breaker`,
        create: () => cockatielBreaker(c),
        touch: (b: { execute: (fn: () => Promise<number>) => Promise<number> }) => b.execute(ok),
      }),
    ),
    {
      name: 'opossum: breaker',
      create: () => new OpossumBreaker(ok, { timeout: 30_000, resetTimeout: 60_000 }),
      touch: (b: OpossumBreaker) => b.fire(),
      dispose: (b: OpossumBreaker) => b.shutdown(),
    },
  ];
  const rows: Row[] = [];
  // Warm up construction (zod parsing, JIT) so its background compile work does not land in
  // the first population's idle window.
  for (const p of populations) {
    if (p.dispose) continue;
    for (let i = 0; i < N; i++) p.create();
  }
  {
    gc();
    await new Promise((r) => setTimeout(r, 500));
    const cpuMs = await idleCpuMs();
    rows.push({
      name: 'no breakers (idle baseline)',
      value: 0,
      unit: 'B',
      extra: { 'timers each': '', 'CPU idle 3 s': `${cpuMs.toFixed(1)} ms` },
    });
  }
  for (const p of populations) {
    gc();
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const tracker = trackTimers();
    const instances: unknown[] = new Array(N);
    for (let i = 0; i < N; i++) instances[i] = p.create();
    if (p.touch) for (const instance of instances) await p.touch(instance);
    // Let a ticker started by the calls see an idle tick and stop.
    await new Promise((r) => setTimeout(r, 20));
    const timers = tracker.live() / N;
    tracker.restore();
    gc();
    gc();
    const bytes = (process.memoryUsage().heapUsed - heapBefore) / N;
    // Let background GC and compiler threads (counted by cpuUsage) settle first.
    await new Promise((r) => setTimeout(r, 500));
    const cpuMs = await idleCpuMs();
    rows.push({
      name: p.name,
      value: bytes,
      unit: 'B',
      baseline: 'cockatiel 3.2: breaker',
      extra: { 'timers each': timers.toFixed(2), 'CPU idle 3 s': `${cpuMs.toFixed(1)} ms` },
    });
    if (p.dispose) for (const instance of instances) p.dispose(instance);
    instances.length = 0;
  }
  printTable(`Footprint: heap per breaker (${N.toLocaleString('en-US')} live), timers, CPU while idle`, rows);
}

// ---------------------------------------------------------------- 6. telemetry cost

const TELEMETRY_ROUNDS = Number(process.env.BENCH_TELEMETRY_ROUNDS ?? 11);

async function telemetryCost(): Promise<void> {
  const manager = () =>
    new ServiceCommunicationManager({
      serviceId: 'bench-1',
      serviceName: 'bench',
      jwtSecret: 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz',
    });
  const plain = manager();
  const noSdk = manager();
  instrumentCommunication(noSdk);
  const noSdkTracing = traceCommunication(noSdk);
  // The no-SDK rows are built before anything is registered, as in an application without one.
  const sdk = otelSdk();
  const withSdk = manager();
  instrumentCommunication(withSdk, { meterProvider: sdk.meterProvider });
  const sdkTracing = traceCommunication(withSdk, { tracerProvider: sdk.tracerProvider });
  const composedPolicy = (instrument?: { meterProvider?: MeterProvider }) => {
    const retry = new RetryPolicy({ maxAttempts: 3 });
    const breaker = new CircuitBreaker({ failureThreshold: 5, resetTimeoutMs: 60_000 });
    if (instrument) {
      instrumentRetryPolicy(retry, { ...instrument, name: 'svc' });
      instrumentCircuitBreaker(breaker, { ...instrument, name: 'svc' });
    }
    return compose({ retry, circuitBreaker: breaker, timeout: new Timeout({ timeoutMs: 30_000 }) });
  };
  const policies = [
    composedPolicy(),
    composedPolicy({}),
    composedPolicy({ meterProvider: sdk.meterProvider }),
  ];

  const FACADE = 'executeServiceCall, uninstrumented';
  const POLICY = 'retry+breaker+timeout, uninstrumented';
  const cases: Array<[string, () => unknown, string]> = [
    // traceCommunication installs its hook in the manager: the instrumented rows are plain calls.
    [FACADE, () => plain.executeServiceCall('svc', ok), FACADE],
    ['executeServiceCall + telemetry, no SDK', () => noSdk.executeServiceCall('svc', ok), FACADE],
    [
      'executeServiceCall + telemetry, SDK (metrics, batch spans)',
      () => withSdk.executeServiceCall('svc', ok),
      FACADE,
    ],
    [POLICY, () => policies[0]!.execute(ok), POLICY],
    ['retry+breaker+timeout + metrics, no SDK', () => policies[1]!.execute(ok), POLICY],
    ['retry+breaker+timeout + metrics, SDK', () => policies[2]!.execute(ok), POLICY],
  ];
  // Interleaved rounds, the median of each row's medians: machine load drifts alike for all.
  // Each row also gets the median of its per-round ratio to its baseline (paired: a row and its
  // baseline run seconds apart rather than a whole run apart), what the targets are read from.
  const runs = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let round = 0; round < TELEMETRY_ROUNDS; round++)
    for (const [name, fn] of round % 2 === 0 ? cases : [...cases].reverse())
      runs.get(name)!.push(await time(fn, { samples: 20, warmupMs: 100 }));
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: Row[] = cases.map(([name, , baseline]) => {
    const own = runs.get(name)!;
    const base = runs.get(baseline)!;
    return {
      name,
      value: median(own),
      unit: 'ns',
      ...(baseline === name
        ? {}
        : { baseline, extra: { 'paired ratio': `${median(own.map((v, i) => v / base[i]!)).toFixed(3)}x` } }),
    };
  });
  printTable(
    `Telemetry cost (time per call, sequential, ${TELEMETRY_ROUNDS} interleaved rounds; target: no SDK ≤ 1.03x)`,
    rows,
  );
  noSdkTracing.stop();
  sdkTracing.stop();
  await Promise.all([plain.close(), noSdk.close(), withSdk.close()]);
  await sdk.shutdown();
}

const started = Date.now();
const only = process.env.BENCH_ONLY;
if (only === undefined || only === 'telemetry') {
  if (only === undefined) {
    await successPath();
    await failOnce();
    await openCircuit();
    await footprint();
  }
  await telemetryCost();
}
process.stdout.write(
  `\nDone in ${((Date.now() - started) / 1000).toFixed(1)} s (node ${process.version}).\n`,
);
