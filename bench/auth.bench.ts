/**
 * `pnpm bench:auth`: service JWTs, same process run.
 * 1. Token paths: jsonwebtoken sign+verify per call (string secret, KeyObject) against our cached
 *    sign (token provider) and cached verify (verified-token cache).
 * 2. gRPC unary over loopback: bare grpc-js, a server interceptor calling jsonwebtoken.verify per
 *    call (string secret, KeyObject), and our client + server interceptors. Sequential p50/p99
 *    and calls/s with 64 calls in flight.
 */
import { createSecretKey } from 'node:crypto';
import { ServiceAuthManager } from '@clone/service-auth';
import * as grpc from '@grpc/grpc-js';
import jwt from 'jsonwebtoken';
import { formatNs, measure, printTable, type Row, summarize } from './harness';

const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const KEY = createSecretKey(Buffer.from(SECRET));
const claims = { sub: 'ws-1', serviceId: 'ws-1', serviceName: 'websocket-server', permissions: ['asr:read'] };

// ---------------------------------------------------------------- token paths
async function tokenPaths(): Promise<void> {
  const auth = new ServiceAuthManager({ jwtSecret: SECRET, tokenExpirySeconds: 3600 });
  const uncached = new ServiceAuthManager({
    jwtSecret: SECRET,
    tokenExpirySeconds: 3600,
    verifiedCacheSize: 0,
  });
  const provider = auth.createTokenProvider({
    serviceId: 'ws-1',
    serviceName: 'ws',
    permissions: ['asr:read'],
  });
  const token = provider.get();
  const audToken = auth.generateServiceToken('ws-1', 'ws', ['asr:read'], { audience: 'echo' });
  const jwtToken = jwt.sign(claims, SECRET, { algorithm: 'HS256', expiresIn: 3600 });
  const verifyOpts: jwt.VerifyOptions = { algorithms: ['HS256'] };
  let sink = 0;

  const cases: Array<[string, () => unknown]> = [
    [
      'jsonwebtoken sign+verify (string secret)',
      () => jwt.verify(jwt.sign(claims, SECRET, { expiresIn: 3600 }), SECRET, verifyOpts),
    ],
    [
      'jsonwebtoken sign+verify (KeyObject)',
      () => jwt.verify(jwt.sign(claims, KEY, { expiresIn: 3600 }), KEY, verifyOpts),
    ],
    ['jsonwebtoken verify (string secret)', () => jwt.verify(jwtToken, SECRET, verifyOpts)],
    ['jsonwebtoken verify (KeyObject)', () => jwt.verify(jwtToken, KEY, verifyOpts)],
    ['ours: verify, cache miss (KeyObject + claims check)', () => uncached.verifyServiceToken(token)],
    ['ours: cached sign (token provider)', () => (sink += provider.get().length)],
    ['ours: cached verify', () => auth.verifyServiceToken(token)],
    ['ours: cached verify, audience required', () => auth.verifyServiceToken(audToken, { audience: 'echo' })],
    ['ours: cached sign + cached verify', () => auth.verifyServiceToken(provider.get())],
  ];
  const rows: Row[] = [];
  for (const [name, fn] of cases) {
    const s = await measure(fn, { samples: 40, warmupMs: 150 });
    rows.push({
      name,
      value: s.medianNs,
      unit: 'ns',
      baseline: 'jsonwebtoken verify (KeyObject)',
      extra: { p99: formatNs(s.p99Ns), 'ops/s': Math.round(1e9 / s.medianNs).toLocaleString('en-US') },
    });
  }
  printTable('Token paths (per operation; ratio < 1 is faster)', rows);
  if (sink < 0) process.stdout.write('');
}

// ---------------------------------------------------------------- gRPC unary over loopback
const passthrough = (b: Buffer): Buffer => b;
const definition: grpc.ServiceDefinition = {
  Echo: {
    path: '/bench.Echo/Echo',
    requestStream: false,
    responseStream: false,
    requestSerialize: passthrough,
    requestDeserialize: passthrough,
    responseSerialize: passthrough,
    responseDeserialize: passthrough,
  },
};
const EchoClient = grpc.makeGenericClientConstructor(definition, 'Echo');
type Echo = grpc.Client & {
  Echo(req: Buffer, md: grpc.Metadata, cb: (e: grpc.ServiceError | null, r?: Buffer) => void): void;
};

/** A server interceptor doing what a hand-rolled one does: jsonwebtoken.verify on every call. */
function jsonwebtokenInterceptor(key: string | ReturnType<typeof createSecretKey>): grpc.ServerInterceptor {
  return (_descriptor, call) =>
    new grpc.ServerInterceptingCall(call, {
      start(next) {
        next({
          onReceiveMetadata(metadata, mdNext) {
            const value = metadata.get('authorization')[0];
            try {
              jwt.verify(String(value).slice(7), key, { algorithms: ['HS256'] });
            } catch {
              call.sendStatus({ code: grpc.status.UNAUTHENTICATED, details: 'bad token' });
              return;
            }
            mdNext(metadata);
          },
        });
      },
    });
}

interface Variant {
  name: string;
  server: grpc.ServerInterceptor[];
  client: grpc.Interceptor[];
  /** Static metadata sent with each call (for the jsonwebtoken variants). */
  token?: string;
}

async function startEcho(
  interceptors: grpc.ServerInterceptor[],
): Promise<{ port: number; server: grpc.Server }> {
  const server = new grpc.Server({ interceptors });
  server.addService(definition, {
    Echo: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) =>
      cb(null, call.request),
  });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
      e ? reject(e) : resolve(p),
    ),
  );
  return { port, server };
}

function callOnce(client: Echo, payload: Buffer, token: string | undefined): Promise<void> {
  const md = new grpc.Metadata();
  if (token !== undefined) md.set('authorization', `Bearer ${token}`);
  return new Promise((resolve, reject) => client.Echo(payload, md, (e) => (e ? reject(e) : resolve())));
}

async function sequential(client: Echo, token: string | undefined, calls: number): Promise<number[]> {
  const payload = Buffer.from('hello');
  const latencies: number[] = [];
  for (let i = 0; i < calls; i++) {
    const start = process.hrtime.bigint();
    await callOnce(client, payload, token);
    latencies.push(Number(process.hrtime.bigint() - start));
  }
  return latencies;
}

/** Calls/s with `inFlight` concurrent callers, and process CPU per call (client and server share it). */
async function throughput(
  client: Echo,
  token: string | undefined,
  inFlight: number,
  ms: number,
): Promise<{ rate: number; cpuNsPerCall: number }> {
  const payload = Buffer.from('hello');
  const end = Date.now() + ms;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (Date.now() < end) {
      await callOnce(client, payload, token);
      done++;
    }
  };
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: inFlight }, worker));
  const used = process.cpuUsage(cpu);
  return {
    rate: done / (Number(process.hrtime.bigint() - start) / 1e9),
    cpuNsPerCall: ((used.user + used.system) * 1000) / done,
  };
}

async function grpcUnary(): Promise<void> {
  // The audience is required by the interceptor (a server's own name), as createServiceServer does.
  const server = new ServiceAuthManager({ jwtSecret: SECRET });
  const client = new ServiceAuthManager({ jwtSecret: SECRET });
  const staticToken = jwt.sign({ ...claims, aud: 'echo' }, SECRET, { algorithm: 'HS256', expiresIn: 3600 });
  const variants: Variant[] = [
    { name: 'bare grpc-js', server: [], client: [] },
    {
      name: 'jsonwebtoken verify per call (string secret)',
      server: [jsonwebtokenInterceptor(SECRET)],
      client: [],
      token: staticToken,
    },
    {
      name: 'jsonwebtoken verify per call (KeyObject)',
      server: [jsonwebtokenInterceptor(KEY)],
      client: [],
      token: staticToken,
    },
    {
      name: 'ours: client + server interceptors',
      server: [
        server.createServerInterceptor({
          methodPermissions: { '/bench.Echo/Echo': ['echo:read'] },
          audience: 'echo',
        }),
      ],
      client: [
        client.createClientInterceptor({
          serviceId: 'ws-1',
          serviceName: 'ws',
          permissions: ['echo:*'],
          audience: 'echo',
        }),
      ],
    },
  ];
  const running = await Promise.all(
    variants.map(async (v) => {
      const { port, server: s } = await startEcho(v.server);
      const c = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
        interceptors: v.client,
      }) as unknown as Echo;
      await sequential(c, v.token, 300); // connect and warm up
      return { v, c, s };
    }),
  );

  const latency = new Map<string, number[]>();
  const rate = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  // Rounds alternate between variants so drift in machine load hits them all alike.
  for (let round = 0; round < 3; round++) {
    for (const { v, c } of running) {
      const l = latency.get(v.name) ?? [];
      l.push(...(await sequential(c, v.token, 1000)));
      latency.set(v.name, l);
      const t = await throughput(c, v.token, 64, 1500);
      rate.set(v.name, [...(rate.get(v.name) ?? []), t.rate]);
      cpu.set(v.name, [...(cpu.get(v.name) ?? []), t.cpuNsPerCall]);
    }
  }
  for (const { c, s } of running) {
    c.close();
    s.forceShutdown();
  }

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  printTable(
    'gRPC unary over loopback, sequential (p50 per call; ratio < 1 is faster)',
    variants.map((v) => {
      const s = summarize(latency.get(v.name)!);
      return {
        name: v.name,
        value: s.medianNs,
        unit: 'ns',
        baseline: 'bare grpc-js',
        extra: { p99: formatNs(s.p99Ns), calls: s.samples },
      };
    }),
  );
  printTable(
    'gRPC unary over loopback, 64 in flight (calls/s, median of 3 rounds; ratio > 1 is faster)',
    variants.map((v) => ({
      name: v.name,
      value: median(rate.get(v.name)!),
      unit: 'calls/s',
      baseline: 'bare grpc-js',
      extra: {
        'CPU/call': formatNs(median(cpu.get(v.name)!)),
        'CPU ratio': `${(median(cpu.get(v.name)!) / median(cpu.get('bare grpc-js')!)).toFixed(2)}x`,
        rounds: rate
          .get(v.name)!
          .map((r) => Math.round(r).toLocaleString('en-US'))
          .join(' / '),
      },
    })),
  );
}

const started = Date.now();
await tokenPaths();
await grpcUnary();
process.stdout.write(`\ndone in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
