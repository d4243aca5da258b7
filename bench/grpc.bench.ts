/**
 * `pnpm bench:grpc`: unary calls over loopback, client and server in this process. Sequential
 * latency (p50/p99 of single calls) and throughput (calls/s with 64 in flight) for
 *   - bare grpc-js: generated client, no interceptors, plain server;
 *   - the same with the metadata and deadline the facade sends (token, correlation id), to
 *     tell the cost of those bytes in grpc-js and HTTP/2 from the cost of the library;
 *   - nice-grpc with its retry and deadline middlewares, same plain server;
 *   - then our stack one layer at a time, so each layer's cost shows on its own:
 *     1. our typed client (its one context interceptor: token, correlation id, deadline, the
 *        promise form and error mapping) against the plain server;
 *     2. bare grpc-js with the same headers against createServiceServer (token verified with
 *        its audience, permission checked, correlation context, error mapping);
 *     3. our typed client against createServiceServer (both sides);
 *     4. the facade: executeServiceCall (retry, breaker, timeout composed) around 3.
 * Rounds are interleaved so drift in machine load hits every row alike.
 */

import { randomUUID } from 'node:crypto';
import {
  ClientFactory,
  clientConstructor,
  createServiceServer,
  ServiceCommunicationManager,
  serviceDefinition,
} from '@clone/grpc-proto';
import * as grpc from '@grpc/grpc-js';
import { type CompatServiceDefinition, createChannel, createClientFactory } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { retryMiddleware } from 'nice-grpc-client-middleware-retry';
import { formatNs, printTable, type Row, summarize } from './harness';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const SEQUENTIAL_CALLS = Number(process.env.BENCH_SEQUENTIAL ?? 2_000);
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 1_500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 64;

const request = {
  sessionId: 'session-456',
  audio: Buffer.alloc(64, 1),
  encoding: 'LINEAR16',
  sampleRateHz: 16_000,
};
const answer = {
  transcript: 'hello there',
  confidence: 0.97,
  languageCode: 'en-US',
  words: [],
  audioDurationMs: 2,
};

type Call = () => Promise<unknown>;

async function sequential(call: Call, n: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const start = process.hrtime.bigint();
    await call();
    out.push(Number(process.hrtime.bigint() - start));
  }
  return out;
}

/** Calls/s at IN_FLIGHT concurrency, and this process's CPU time per call (client + server). */
async function throughput(call: Call, ms: number): Promise<{ rate: number; cpuNs: number }> {
  let done = 0;
  const cpu = process.cpuUsage();
  const end = performance.now() + ms;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const used = process.cpuUsage(cpu);
  return {
    rate: (done * 1000) / (performance.now() - start),
    cpuNs: ((used.user + used.system) * 1000) / done,
  };
}

async function main(): Promise<void> {
  // Plain grpc-js server for the bare and nice-grpc rows.
  const plain = new grpc.Server();
  plain.addService(serviceDefinition('asr'), {
    Transcribe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, answer),
    StreamTranscribe: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    HealthCheck: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { status: 'SERVING' }),
  });
  const plainPort = await new Promise<number>((resolve, reject) =>
    plain.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );

  // Our server: auth interceptor with a permission rule, health service, wrapped handlers.
  const ours = createServiceServer({
    serviceName: 'asr',
    auth: { jwtSecret: SECRET },
    services: {
      asr: { Transcribe: (_call, callback) => callback(null, answer), StreamTranscribe: (c) => c.end() },
    },
    requirePermissions: { asr: ['asr:read'] },
    handleSignals: false,
  });
  const oursPort = await ours.listen(0, '127.0.0.1');

  const Ctor = clientConstructor('asr');
  type Callback = (e: grpc.ServiceError | null, r?: unknown) => void;
  const bare = new Ctor(`127.0.0.1:${plainPort}`, grpc.credentials.createInsecure()) as unknown as {
    Transcribe(req: unknown, cb: Callback): void;
    Transcribe(req: unknown, metadata: grpc.Metadata, options: grpc.CallOptions, cb: Callback): void;
    close(): void;
  };
  const bareCall: Call = () =>
    new Promise((resolve, reject) => bare.Transcribe(request, (e, r) => (e ? reject(e) : resolve(r))));

  const niceChannel = createChannel(`127.0.0.1:${plainPort}`);
  const nice = createClientFactory()
    .use(retryMiddleware)
    .use(deadlineMiddleware)
    .create(serviceDefinition('asr') as unknown as CompatServiceDefinition, niceChannel, {
      '*': { retry: true, retryMaxAttempts: 3, retryBaseDelayMs: 100, retryMaxDelayMs: 5_000 },
    }) as unknown as Record<string, (req: unknown, opts?: unknown) => Promise<unknown>>;
  const niceCall: Call = () => nice.Transcribe!(request, { deadline: new Date(Date.now() + 30_000) });

  const comm = new ServiceCommunicationManager({
    serviceId: 'bench-1',
    serviceName: 'bench',
    jwtSecret: SECRET,
    tokenExpirySeconds: 3600,
    healthCheckIntervalMs: 30000,
    enableServiceDiscovery: true,
  });
  const asr = comm.createASRClient({ host: '127.0.0.1', port: oursPort }, ['asr:read']);
  const facadeCall: Call = () =>
    comm.executeServiceCall('asr', () =>
      asr.promises.Transcribe(request as Parameters<typeof asr.promises.Transcribe>[0]),
    );

  // What the facade puts on the wire (token, correlation id, deadline) with none of its code:
  // separates the cost of those bytes in grpc-js/HTTP/2 from the cost of the library.
  // The facade's token names its callee (`aud`), so the bare row sends the same one.
  const token = comm.getAuthManager().getServiceToken('bench-1', 'bench', ['asr:read'], { audience: 'asr' });
  const bareWithHeaders: Call = () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-correlation-id', randomUUID());
    metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) =>
      bare.Transcribe(request, metadata, { deadline: Date.now() + 30_000 }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  };

  // Layer 1: our client alone (the plain server ignores the token).
  const factory = new ClientFactory();
  const tokenSource = comm.getAuthManager().createTokenProvider({
    serviceId: 'bench-1',
    serviceName: 'bench',
    permissions: ['asr:read'],
    audience: 'asr',
  });
  const clientOnly = factory.create('asr', `127.0.0.1:${plainPort}`, { token: tokenSource });
  const clientOnlyCall: Call = () =>
    clientOnly.promises.Transcribe(request as Parameters<typeof clientOnly.promises.Transcribe>[0]);
  // Layer 2: our server alone (bare client, same headers).
  const bareToOurs = new Ctor(
    `127.0.0.1:${oursPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as typeof bare;
  const serverOnlyCall: Call = () => {
    const metadata = new grpc.Metadata();
    metadata.set('x-correlation-id', randomUUID());
    metadata.set('authorization', `Bearer ${token}`);
    return new Promise((resolve, reject) =>
      bareToOurs.Transcribe(request, metadata, { deadline: Date.now() + 30_000 }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
  };
  // Layer 3: both, without executeServiceCall.
  const bothCall: Call = () =>
    asr.promises.Transcribe(request as Parameters<typeof asr.promises.Transcribe>[0]);

  const BARE = 'bare grpc-js';
  const SAME_HEADERS = 'bare grpc-js + same headers, deadline';
  const FACADE = '@clone facade (full path)';
  const cases: [string, Call][] = [
    [BARE, bareCall],
    [SAME_HEADERS, bareWithHeaders],
    ['nice-grpc + retry + deadline', niceCall],
    ['1. our client -> plain server', clientOnlyCall],
    ['2. bare + same headers -> our server', serverOnlyCall],
    ['3. our client -> our server', bothCall],
    [FACADE, facadeCall],
  ];
  const latencies = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  const rates = new Map<string, number[]>(cases.map(([n]) => [n, []]));
  const cpus = new Map<string, number[]>(cases.map(([n]) => [n, []]));

  for (const [, call] of cases) await sequential(call, 300); // warm-up: connections, JIT, token cache
  for (let round = 0; round < ROUNDS; round++) {
    for (const [name, call] of cases)
      latencies.get(name)!.push(...(await sequential(call, SEQUENTIAL_CALLS / ROUNDS)));
    for (const [name, call] of cases) {
      const { rate, cpuNs } = await throughput(call, THROUGHPUT_MS);
      rates.get(name)!.push(rate);
      cpus.get(name)!.push(cpuNs);
    }
  }

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const seqRows: Row[] = cases.map(([name]) => {
    const s = summarize(latencies.get(name)!);
    return {
      name,
      value: s.medianNs,
      unit: 'ns',
      baseline: 'bare grpc-js',
      extra: { p99: formatNs(s.p99Ns), calls: s.samples },
    };
  });
  const rateRows: Row[] = cases.map(([name]) => ({
    name,
    value: median(rates.get(name)!),
    unit: 'calls/s',
    baseline: 'bare grpc-js',
    // CPU per call is steadier than wall-clock rates on a busy machine.
    extra: {
      'CPU/call': formatNs(median(cpus.get(name)!)),
      rounds: rates
        .get(name)!
        .map((r) => Math.round(r))
        .join(' / '),
    },
  }));
  printTable('Unary gRPC over loopback, sequential latency (p50; lower is better)', seqRows);
  printTable(`Unary gRPC over loopback, throughput at ${IN_FLIGHT} in flight (higher is better)`, rateRows);

  const row = (rows: Row[], name: string): number => rows.find((r) => r.name === name)!.value;
  const cpu = (name: string): number => median(cpus.get(name)!);
  // What each layer adds to the CPU time of a call, over the row it builds on.
  const layers: [string, string, string][] = [
    ['client: context interceptor, promise form', SAME_HEADERS, '1. our client -> plain server'],
    ['server: auth, permissions, context, errors', SAME_HEADERS, '2. bare + same headers -> our server'],
    ['client + server', SAME_HEADERS, '3. our client -> our server'],
    ['executeServiceCall: retry, breaker, timeout', '3. our client -> our server', FACADE],
  ];
  process.stdout.write(`\nCPU per call added by each layer (${IN_FLIGHT} in flight):\n`);
  for (const [layer, base, withLayer] of layers) {
    const added = cpu(withLayer) - cpu(base);
    process.stdout.write(
      `  ${layer.padEnd(46)} ${added < 0 ? '-' : '+'}${formatNs(Math.abs(added)).padStart(9)} ` +
        `(${(cpu(withLayer) / cpu(base)).toFixed(3)}x of ${base})\n`,
    );
  }
  process.stdout.write(
    `\nfacade vs bare: throughput ${(row(rateRows, FACADE) / row(rateRows, BARE)).toFixed(2)}x (target ≥ 0.95x), ` +
      `p50 ${(row(seqRows, FACADE) / row(seqRows, BARE)).toFixed(2)}x (target ≤ 1.05x), ` +
      `CPU per call ${(cpu(FACADE) / cpu(BARE)).toFixed(2)}x; ` +
      `CPU per call vs bare with the same headers and deadline ${(cpu(FACADE) / cpu(SAME_HEADERS)).toFixed(3)}x (target ≤ 1.02x)\n`,
  );

  bare.close();
  bareToOurs.close();
  factory.close();
  niceChannel.close();
  await comm.close();
  plain.forceShutdown();
  ours.server.forceShutdown();
  await ours.shutdown();
}

await main();
