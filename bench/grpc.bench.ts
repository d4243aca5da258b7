/**
 * `pnpm bench:grpc`: unary calls over loopback. Section A, client and server in this process:
 * sequential latency (p50/p99 of single calls) and throughput (calls/s with 64 in flight) for
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
 *   - the cost of @clone/telemetry on the facade (metrics, call span, client and server span
 *     interceptors): with no SDK registered, and with the SDK (metrics, a batch span processor);
 *     and @opentelemetry/instrumentation-grpc 0.223 on bare grpc-js with the same SDK; those
 *     ratios again from short windows of the two compared rows back to back (paired).
 *   In section A every figure is client + server: their spans, their CPU, and the 2 cores
 *   they share.
 * Section B, the server in a child process (bench/grpc-bench-server.ts: createServiceServer
 * with no telemetry, the same process for every row), only the client here: the facade
 * uninstrumented, instrumented with no SDK, and instrumented with the SDK; the same figures and
 * paired ratios, and the CPU per call of each process apart. That is what the facade's
 * instrumentation costs its caller in a deployment, where the callee is another process.
 * Rounds are interleaved so drift in machine load hits every row alike.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import {
  ClientFactory,
  clientConstructor,
  createServiceServer,
  ServiceCommunicationManager,
  serviceDefinition,
} from '@clone/grpc-proto';
import { instrumentCommunication, traceCommunication } from '@clone/telemetry';
import { tracingServerInterceptor } from '@clone/telemetry/grpc';
import * as grpc from '@grpc/grpc-js';
import { GrpcInstrumentation } from '@opentelemetry/instrumentation-grpc';
import { type CompatServiceDefinition, createChannel, createClientFactory } from 'nice-grpc';
import { deadlineMiddleware } from 'nice-grpc-client-middleware-deadline';
import { retryMiddleware } from 'nice-grpc-client-middleware-retry';
import { formatNs, printTable, type Row, summarize } from './harness';
import { otelSdk } from './otel-sdk';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const SEQUENTIAL_CALLS = Number(process.env.BENCH_SEQUENTIAL ?? 2_000);
const THROUGHPUT_MS = Number(process.env.BENCH_THROUGHPUT_MS ?? 1_500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const IN_FLIGHT = 64;
const PAIR_ROUNDS = Number(process.env.BENCH_PAIRS ?? 15);
const PAIR_MS = Number(process.env.BENCH_PAIR_MS ?? 300);
const SECTIONS = (process.env.BENCH_SECTIONS ?? 'A,B').toUpperCase().split(',');

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

/**
 * Calls/s at IN_FLIGHT concurrency, the calls made, and this process's CPU time per call (client
 * + server in section A, the client alone in section B).
 */
async function throughput(call: Call, ms: number): Promise<{ rate: number; cpuNs: number; calls: number }> {
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
    calls: done,
  };
}

/** The middle value (the upper one of an even count). */
function median(xs: number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
}

type Window = (name: string, ms: number) => Promise<{ rate: number; cpuNs: number }>;

/**
 * Paired ratios: short windows of the compared rows back to back, PAIR_ROUNDS times, which row
 * goes first alternating (so neither always follows the other's garbage); the medians of each
 * pair's throughput and CPU-per-call ratios. On a shared machine the load drifts within a round
 * of a table; within one pair of windows it barely does.
 */
async function pairedRatios(
  pairs: readonly [string, string][],
  window: Window,
): Promise<Map<string, { rate: number; cpu: number }>> {
  const rates = new Map<string, number[]>(pairs.map(([a]) => [a, []]));
  const cpus = new Map<string, number[]>(pairs.map(([a]) => [a, []]));
  for (let round = 0; round < PAIR_ROUNDS; round++) {
    for (const [a, b] of pairs) {
      const [first, second] = round % 2 === 0 ? [a, b] : [b, a];
      const x = await window(first, PAIR_MS);
      const y = await window(second, PAIR_MS);
      const [ra, rb] = first === a ? [x, y] : [y, x];
      rates.get(a)!.push(ra.rate / rb.rate);
      cpus.get(a)!.push(ra.cpuNs / rb.cpuNs);
    }
  }
  return new Map(pairs.map(([a]) => [a, { rate: median(rates.get(a)!), cpu: median(cpus.get(a)!) }]));
}

/**
 * Starts bench/grpc-bench-server.ts in a child process (TypeScript sources through tsx, as this
 * process runs) and resolves its port; `cpuNs()` asks it for its CPU time so far.
 */
async function startChildServer(): Promise<{
  port: number;
  cpuNs(): Promise<number>;
  close(): Promise<void>;
}> {
  const file = fileURLToPath(new URL('./grpc-bench-server.ts', import.meta.url));
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@clone/source', file],
    { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] },
  );
  const next = <T>(pick: (m: unknown) => T | undefined): Promise<T> =>
    new Promise((resolve, reject) => {
      const onMessage = (m: unknown): void => {
        const value = pick(m);
        if (value === undefined) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolve(value);
      };
      const onExit = (): void => reject(new Error('bench server exited'));
      child.on('message', onMessage);
      child.once('exit', onExit);
    });
  const port = await next((m) => (m as { port?: number }).port);
  return {
    port,
    cpuNs: () => {
      const answer = next((m) => (m as { cpu?: NodeJS.CpuUsage }).cpu);
      child.send('cpu');
      return answer.then((c) => (c.user + c.system) * 1000);
    },
    close: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.send('close');
      }),
  };
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  // Section B's callee, started first so it is up and warm by the time its section runs.
  const childServer = await startChildServer();
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

  // Telemetry: the same facade and server, instrumented, without an SDK and with one.
  const instrumented = async (providers: Parameters<typeof instrumentCommunication>[1]) => {
    const server = createServiceServer({
      serviceName: 'asr',
      auth: { jwtSecret: SECRET },
      services: {
        asr: { Transcribe: (_call, callback) => callback(null, answer), StreamTranscribe: (c) => c.end() },
      },
      requirePermissions: { asr: ['asr:read'] },
      handleSignals: false,
      interceptors: [tracingServerInterceptor(providers)],
    });
    const port = await server.listen(0, '127.0.0.1');
    const manager = new ServiceCommunicationManager({
      serviceId: 'bench-1',
      serviceName: 'bench',
      jwtSecret: SECRET,
      tokenExpirySeconds: 3600,
      healthCheckIntervalMs: 30000,
      enableServiceDiscovery: true,
    });
    instrumentCommunication(manager, providers);
    // Installs its hook in the manager: a call span per executeServiceCall, an attempt span per
    // gRPC call (made in the manager's own client interceptor).
    const telemetry = traceCommunication(manager, providers);
    const client = manager.createASRClient({ host: '127.0.0.1', port }, ['asr:read']);
    // traceCommunication installed its hook in the manager: every call is a call span.
    const call: Call = () =>
      manager.executeServiceCall('asr', () =>
        client.promises.Transcribe(request as Parameters<typeof client.promises.Transcribe>[0]),
      );
    return { server, manager, telemetry, call };
  };
  // Section B: the facade in this process calling the server in the child, uninstrumented or
  // instrumented exactly as in `instrumented` (client side only: the server is the child's).
  const remoteFacade = (providers?: Parameters<typeof instrumentCommunication>[1]) => {
    const manager = new ServiceCommunicationManager({
      serviceId: 'bench-1',
      serviceName: 'bench',
      jwtSecret: SECRET,
      tokenExpirySeconds: 3600,
      healthCheckIntervalMs: 30000,
      enableServiceDiscovery: true,
    });
    if (providers) instrumentCommunication(manager, providers);
    const telemetry = providers ? traceCommunication(manager, providers) : undefined;
    const client = manager.createASRClient({ host: '127.0.0.1', port: childServer.port }, ['asr:read']);
    const call: Call = () =>
      manager.executeServiceCall('asr', () =>
        client.promises.Transcribe(request as Parameters<typeof client.promises.Transcribe>[0]),
      );
    return { manager, telemetry, call };
  };
  // Built before anything is registered (an application without an SDK); the SDK then comes.
  const noSdk = await instrumented({});
  const remotePlain = remoteFacade();
  const remoteNoSdk = remoteFacade({});
  const sdk = otelSdk();
  const withSdk = await instrumented({
    meterProvider: sdk.meterProvider,
    tracerProvider: sdk.tracerProvider,
  });
  const remoteSdk = remoteFacade({ meterProvider: sdk.meterProvider, tracerProvider: sdk.tracerProvider });
  // @opentelemetry/instrumentation-grpc patches grpc-js itself (client constructors,
  // Server.register): applied to the loaded module for its row only, on a plain server registered
  // and a client constructor made while patched (a constructor made before, like the other rows',
  // would be left alone: its row would then trace the server side only).
  const grpcModule = createRequire(import.meta.url)('@grpc/grpc-js') as typeof grpc;
  const otelGrpc = new GrpcInstrumentation({ enabled: false });
  otelGrpc.setTracerProvider(sdk.tracerProvider);
  const [grpcDefinition] = otelGrpc.getModuleDefinitions();
  grpcDefinition!.patch!(grpcModule);
  const OtelCtor = grpcModule.makeGenericClientConstructor(serviceDefinition('asr'), 'ASRService');
  const plainOtel = new grpc.Server();
  plainOtel.addService(serviceDefinition('asr'), {
    Transcribe: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, answer),
    StreamTranscribe: (call: grpc.ServerDuplexStream<unknown, unknown>) => call.end(),
    HealthCheck: (_call: unknown, callback: grpc.sendUnaryData<unknown>) =>
      callback(null, { status: 'SERVING' }),
  });
  grpcDefinition!.unpatch!(grpcModule);
  const plainOtelPort = await new Promise<number>((resolve, reject) =>
    plainOtel.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  const bareOtel = new OtelCtor(
    `127.0.0.1:${plainOtelPort}`,
    grpc.credentials.createInsecure(),
  ) as unknown as typeof bare;
  const bareOtelCall: Call = () =>
    new Promise((resolve, reject) => bareOtel.Transcribe(request, (e, r) => (e ? reject(e) : resolve(r))));

  const BARE = 'bare grpc-js';
  const SAME_HEADERS = 'bare grpc-js + same headers, deadline';
  const FACADE = '@clone facade (full path)';
  const FACADE_NO_SDK = '@clone facade + telemetry, no SDK';
  const FACADE_SDK = '@clone facade + telemetry, SDK (metrics, batch spans)';
  const BARE_OTEL = 'bare grpc-js + instrumentation-grpc, SDK (batch spans)';
  const cases: [string, Call][] = [
    [BARE, bareCall],
    [SAME_HEADERS, bareWithHeaders],
    ['nice-grpc + retry + deadline', niceCall],
    ['1. our client -> plain server', clientOnlyCall],
    ['2. bare + same headers -> our server', serverOnlyCall],
    ['3. our client -> our server', bothCall],
    [FACADE, facadeCall],
    [FACADE_NO_SDK, noSdk.call],
    [FACADE_SDK, withSdk.call],
    [BARE_OTEL, bareOtelCall],
  ];
  // Only the instrumentation-grpc row runs with grpc-js patched.
  const patched = new Set([BARE_OTEL]);
  const sequentialOf = async (name: string, call: Call, n: number): Promise<number[]> => {
    if (patched.has(name)) grpcDefinition!.patch!(grpcModule);
    try {
      return await sequential(call, n);
    } finally {
      if (patched.has(name)) grpcDefinition!.unpatch!(grpcModule);
    }
  };
  const throughputOf = async (name: string, call: Call, ms: number) => {
    if (patched.has(name)) grpcDefinition!.patch!(grpcModule);
    try {
      return await throughput(call, ms);
    } finally {
      if (patched.has(name)) grpcDefinition!.unpatch!(grpcModule);
    }
  };
  const row = (rows: Row[], name: string): number => rows.find((r) => r.name === name)!.value;
  const ratio = (rows: Row[], a: string, b: string): string => (row(rows, a) / row(rows, b)).toFixed(3);
  // BENCH_SECTIONS=B runs section B alone (e.g. to repeat the facade's telemetry figure).
  if (SECTIONS.includes('A')) {
    const latencies = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    const rates = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    const cpus = new Map<string, number[]>(cases.map(([n]) => [n, []]));

    for (const [name, call] of cases) await sequentialOf(name, call, 300); // warm-up: connections, JIT, token cache
    for (let round = 0; round < ROUNDS; round++) {
      for (const [name, call] of cases)
        latencies.get(name)!.push(...(await sequentialOf(name, call, SEQUENTIAL_CALLS / ROUNDS)));
      for (const [name, call] of cases) {
        const { rate, cpuNs } = await throughputOf(name, call, THROUGHPUT_MS);
        rates.get(name)!.push(rate);
        cpus.get(name)!.push(cpuNs);
      }
    }

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
    process.stdout.write(
      '\n=== Section A: client and server in this process (every figure is client + server) ===\n',
    );
    printTable('A. Unary gRPC over loopback, sequential latency (p50; lower is better)', seqRows);
    printTable(
      `A. Unary gRPC over loopback, throughput at ${IN_FLIGHT} in flight (higher is better; CPU/call is client + server)`,
      rateRows,
    );

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

    process.stdout.write(
      `\nA. telemetry (client + server in this process), no SDK vs uninstrumented facade: p50 ${ratio(seqRows, FACADE_NO_SDK, FACADE)}x (target ≤ 1.03x), ` +
        `throughput ${ratio(rateRows, FACADE_NO_SDK, FACADE)}x, CPU per call ${(cpu(FACADE_NO_SDK) / cpu(FACADE)).toFixed(3)}x\n` +
        `telemetry with the SDK vs uninstrumented facade: throughput ${ratio(rateRows, FACADE_SDK, FACADE)}x (target ≥ 0.85x), ` +
        `p50 ${ratio(seqRows, FACADE_SDK, FACADE)}x, CPU per call +${formatNs(cpu(FACADE_SDK) - cpu(FACADE))}\n` +
        `instrumentation-grpc on bare grpc-js (same SDK) vs bare: throughput ${ratio(rateRows, BARE_OTEL, BARE)}x, ` +
        `p50 ${ratio(seqRows, BARE_OTEL, BARE)}x, CPU per call +${formatNs(cpu(BARE_OTEL) - cpu(BARE))}\n`,
    );

    // The telemetry ratios again, paired (see pairedRatios).
    const pairs: [string, string][] = [
      [FACADE_NO_SDK, FACADE],
      [FACADE_SDK, FACADE],
      [BARE_OTEL, BARE],
    ];
    const callOf = new Map(cases);
    const paired = await pairedRatios(pairs, (name, ms) => throughputOf(name, callOf.get(name)!, ms));
    process.stdout.write(
      `\nA. Paired (${PAIR_ROUNDS} pairs of ${PAIR_MS} ms windows, ${IN_FLIGHT} in flight; median of the pair ratios):\n`,
    );
    for (const [a, b] of pairs) {
      process.stdout.write(
        `  ${a} / ${b}: throughput ${paired.get(a)!.rate.toFixed(3)}x, CPU per call ${paired.get(a)!.cpu.toFixed(3)}x\n`,
      );
    }
  }

  // Section B: the server in a child process, the same for every row; this process's CPU is
  // the client's alone, and the child's is asked for around each window.
  const REMOTE = 'B. facade, uninstrumented';
  const REMOTE_NO_SDK = 'B. facade + telemetry, no SDK';
  const REMOTE_SDK = 'B. facade + telemetry, SDK (metrics, batch spans)';
  const remoteCases: [string, Call][] = [
    [REMOTE, remotePlain.call],
    [REMOTE_NO_SDK, remoteNoSdk.call],
    [REMOTE_SDK, remoteSdk.call],
  ];
  const remoteWindow = async (call: Call, ms: number) => {
    const before = await childServer.cpuNs();
    const result = await throughput(call, ms);
    return { ...result, serverCpuNs: ((await childServer.cpuNs()) - before) / result.calls };
  };
  const bLatencies = new Map<string, number[]>(remoteCases.map(([n]) => [n, []]));
  const bRates = new Map<string, number[]>(remoteCases.map(([n]) => [n, []]));
  const bCpus = new Map<string, number[]>(remoteCases.map(([n]) => [n, []]));
  const bServerCpus = new Map<string, number[]>(remoteCases.map(([n]) => [n, []]));
  for (const [, call] of remoteCases) {
    await sequential(call, 300); // warm-up: connection, JIT, token cache
    await throughput(call, 300);
  }
  for (let round = 0; round < ROUNDS; round++) {
    // Each row goes first in turn.
    const order = remoteCases.map((_, i) => remoteCases[(i + round) % remoteCases.length]!);
    for (const [name, call] of order)
      bLatencies.get(name)!.push(...(await sequential(call, SEQUENTIAL_CALLS / ROUNDS)));
    for (const [name, call] of order) {
      const { rate, cpuNs, serverCpuNs } = await remoteWindow(call, THROUGHPUT_MS);
      bRates.get(name)!.push(rate);
      bCpus.get(name)!.push(cpuNs);
      bServerCpus.get(name)!.push(serverCpuNs);
    }
  }
  const bSeqRows: Row[] = remoteCases.map(([name]) => {
    const s = summarize(bLatencies.get(name)!);
    return {
      name,
      value: s.medianNs,
      unit: 'ns',
      baseline: REMOTE,
      extra: { p99: formatNs(s.p99Ns), calls: s.samples },
    };
  });
  const bRateRows: Row[] = remoteCases.map(([name]) => ({
    name,
    value: median(bRates.get(name)!),
    unit: 'calls/s',
    baseline: REMOTE,
    extra: {
      'client CPU/call': formatNs(median(bCpus.get(name)!)),
      'server CPU/call': formatNs(median(bServerCpus.get(name)!)),
      rounds: bRates
        .get(name)!
        .map((r) => Math.round(r))
        .join(' / '),
    },
  }));
  process.stdout.write(
    '\n=== Section B: server in a child process (no telemetry, the same for every row); ' +
      'client figures are the facade alone ===\n',
  );
  printTable('B. Unary gRPC to a child-process server, sequential latency (p50; lower is better)', bSeqRows);
  printTable(
    `B. Unary gRPC to a child-process server, throughput at ${IN_FLIGHT} in flight (higher is better)`,
    bRateRows,
  );
  const bCpu = (name: string): number => median(bCpus.get(name)!);
  const sdkRatio = row(bRateRows, REMOTE_SDK) / row(bRateRows, REMOTE);
  process.stdout.write(
    `\nB. facade telemetry (client side only), no SDK vs uninstrumented: p50 ${ratio(bSeqRows, REMOTE_NO_SDK, REMOTE)}x (target ≤ 1.03x), ` +
      `throughput ${ratio(bRateRows, REMOTE_NO_SDK, REMOTE)}x, client CPU per call ${(bCpu(REMOTE_NO_SDK) / bCpu(REMOTE)).toFixed(3)}x\n` +
      `B. facade telemetry with the SDK vs uninstrumented: throughput ${sdkRatio.toFixed(3)}x ` +
      `(target ≥ 0.85x: ${sdkRatio >= 0.85 ? 'met' : 'MISSED'}), p50 ${ratio(bSeqRows, REMOTE_SDK, REMOTE)}x, ` +
      `client CPU per call ${(bCpu(REMOTE_SDK) / bCpu(REMOTE)).toFixed(3)}x (+${formatNs(bCpu(REMOTE_SDK) - bCpu(REMOTE))})\n`,
  );
  const bPairs: [string, string][] = [
    [REMOTE_NO_SDK, REMOTE],
    [REMOTE_SDK, REMOTE],
  ];
  const bCallOf = new Map(remoteCases);
  const bPaired = await pairedRatios(bPairs, (name, ms) => throughput(bCallOf.get(name)!, ms));
  process.stdout.write(
    `\nB. Paired (${PAIR_ROUNDS} pairs of ${PAIR_MS} ms windows, ${IN_FLIGHT} in flight, alternating order; median of the pair ratios):\n`,
  );
  for (const [a, b] of bPairs) {
    process.stdout.write(
      `  ${a} / ${b}: throughput ${bPaired.get(a)!.rate.toFixed(3)}x, client CPU per call ${bPaired.get(a)!.cpu.toFixed(3)}x\n`,
    );
  }
  process.stdout.write(
    `\nload (1-minute average): ${loadAtStart.toFixed(2)} at start -> ${loadavg()[0]!.toFixed(2)} at end\n`,
  );

  for (const r of [remotePlain, remoteNoSdk, remoteSdk]) {
    r.telemetry?.stop();
    await r.manager.close();
  }
  await childServer.close();
  bareOtel.close();
  plainOtel.forceShutdown();
  for (const i of [noSdk, withSdk]) {
    i.telemetry.stop();
    await i.manager.close();
    i.server.server.forceShutdown();
    await i.server.shutdown();
  }
  await sdk.shutdown();
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
