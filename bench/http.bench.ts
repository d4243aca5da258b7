/**
 * `pnpm bench:http`: HTTP/JSON calls over loopback to a server in a child process (so the
 * server's work does not share this process's event loop), 64 requests in flight, for
 *   - bare `undici.request` on a keep-alive Pool: the floor; then the same with the headers
 *     ours sends, to tell the cost of those bytes from the cost of the library;
 *   - ours: a ServiceClient (retry within a retry budget → circuit breaker → timeout, a service
 *     token in `Authorization`, the correlation id of the call context, the deadline header,
 *     JSON parsing) on a keep-alive undici Agent, spoken to through undici's dispatcher
 *     interface (the layer `undici.request` is built on);
 *   - what seed 001 hand-writes: axios with axios-retry and an opossum breaker, a keep-alive
 *     agent and the same headers;
 *   - got 14 with its own retry, same headers.
 * Every client sends the same request and parses the same JSON answer. Rounds are interleaved,
 * each client going first in turn, so drift in machine load hits every row alike; the table
 * gives the median requests/s over the rounds and the ratio to bare undici.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent as HttpAgent } from 'node:http';
import { loadavg } from 'node:os';
import { ServiceClient } from '@clone/http-client';
import { ServiceAuthManager } from '@clone/service-auth';
import axios from 'axios';
import axiosRetry from 'axios-retry';
import got from 'got';
import CircuitBreaker from 'opossum';
import { Pool } from 'undici';
import { correlationStorage } from '../packages/internal/src/correlation-storage';
import { formatNs, printTable, type Row, summarize } from './harness';

const IN_FLIGHT = 64;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1_500);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const SECRET = 'bench-secret-0123456789-abcdefghijklmnopqrstuvwxyz';
const PATH = '/api/doors/42';

/** The callee: node:http answering every request with a small JSON document. */
const SERVER = `
const http = require('node:http');
const body = JSON.stringify({ id: '42', name: 'Main Entrance', buildingId: '123', open: false, tags: ['a', 'b'] });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\\n'));
`;

async function startCallee(): Promise<{ origin: string; child: ChildProcess }> {
  const child = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('exit', () => reject(new Error('bench server exited')));
  });
  return { origin: `http://127.0.0.1:${port}`, child };
}

type Call = () => Promise<unknown>;

/**
 * `IN_FLIGHT` loops calling back to back for `ms`: requests completed per second, and this
 * process's CPU time per request (ns): on a machine shared with other work the CPU figure
 * moves less than the rate, and it is what a client costs its caller.
 */
async function throughput(call: Call, ms: number): Promise<{ rate: number; cpuNs: number }> {
  let done = 0;
  const end = performance.now() + ms;
  const loop = async (): Promise<void> => {
    while (performance.now() < end) {
      await call();
      done++;
    }
  };
  const start = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(Array.from({ length: IN_FLIGHT }, loop));
  const used = process.cpuUsage(cpu);
  return {
    rate: (done * 1000) / (performance.now() - start),
    cpuNs: ((used.user + used.system) * 1000) / done,
  };
}

/** The targets for ours, and whether this run met them. */
function targets(vsUndici: number, vsAxios: number): string {
  const met = (ok: boolean): string => (ok ? 'met' : 'MISSED');
  return `>= 0.85x undici: ${met(vsUndici >= 0.85)}; >= 2x axios: ${met(vsAxios >= 2)}`;
}

async function main(): Promise<void> {
  const loadAtStart = loadavg()[0]!;
  const { origin, child } = await startCallee();
  const auth = new ServiceAuthManager({ jwtSecret: SECRET });
  const token = auth.createTokenProvider({
    serviceId: 'order-service-1',
    serviceName: 'order-service',
    permissions: ['internal:read'],
    audience: 'access-service',
  });
  const storage = correlationStorage();
  const headers = () => ({
    authorization: `Bearer ${token.get()}`,
    'x-correlation-id': storage.getStore()?.correlationId ?? 'none',
    'x-service-name': 'order-service',
  });

  const pool = new Pool(origin, { keepAliveTimeout: 60_000 });
  const bare: Call = async () => {
    const { body } = await pool.request({ path: PATH, method: 'GET' });
    return body.json();
  };

  // The floor again with the bytes ours sends (token, correlation id, caller, deadline), as an
  // object, the usual way: what those headers cost in undici and on the wire, apart from the library.
  const bareWithHeaders: Call = async () => {
    const { body } = await pool.request({
      path: PATH,
      method: 'GET',
      headers: { ...headers(), 'x-request-timeout-ms': '10000' },
    });
    return body.json();
  };

  const ours = new ServiceClient({
    serviceName: 'access-service',
    baseUrl: origin,
    callerName: 'order-service',
    auth: token,
    circuitBreaker: { failureThreshold: 5, timeout: 10_000, resetTimeout: 60_000 },
    retryPolicy: { maxRetries: 3, initialDelay: 100 },
  });
  const oursCall: Call = () => ours.get(PATH);

  const agent = new HttpAgent({ keepAlive: true, maxSockets: IN_FLIGHT });
  const ax = axios.create({ baseURL: origin, timeout: 10_000, httpAgent: agent });
  axiosRetry(ax, { retries: 3, retryDelay: axiosRetry.exponentialDelay });
  ax.interceptors.request.use((config) => {
    Object.assign(config.headers, headers());
    return config;
  });
  const breaker = new CircuitBreaker((path: string) => ax.get(path).then((r) => r.data), {
    timeout: 10_000,
    errorThresholdPercentage: 50,
    resetTimeout: 60_000,
  });
  const axiosCall: Call = () => breaker.fire(PATH);

  const gotClient = got.extend({
    prefixUrl: origin,
    agent: { http: agent },
    retry: { limit: 3 },
    timeout: { request: 10_000 },
    responseType: 'json',
    hooks: { beforeRequest: [(o) => void Object.assign(o.headers, headers())] },
  });
  const gotCall: Call = () => gotClient.get(PATH.slice(1)).json();

  const cases: Array<[string, Call]> = [
    ['bare undici.request', bare],
    ['undici.request + the same headers', bareWithHeaders],
    ['ours: ServiceClient (retry+budget, breaker, timeout, token, correlation id)', oursCall],
    ['axios + axios-retry + opossum', axiosCall],
    ['got 14 (retry)', gotCall],
  ];
  // Each client runs inside a correlation context, as a request handler's calls do.
  const inContext =
    (call: Call): Call =>
    () =>
      storage.run({ correlationId: 'bench-correlation-id' }, call);
  for (const [, call] of cases) await throughput(inContext(call), 300); // warm-up: connections, JIT
  const rates = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  const cpus = new Map<string, number[]>(cases.map(([name]) => [name, []]));
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < cases.length; i++) {
      const [name, call] = cases[(i + round) % cases.length]!;
      const { rate, cpuNs } = await throughput(inContext(call), ROUND_MS);
      rates.get(name)!.push(rate);
      cpus.get(name)!.push(cpuNs);
    }
  }
  const rate = (name: string): number => summarize(rates.get(name)!).medianNs;
  const cpu = (name: string): number => summarize(cpus.get(name)!).medianNs;
  const [undiciName, , , axiosName] = cases.map(([name]) => name) as [string, string, string, string];
  const rows: Row[] = cases.map(([name], i) => ({
    name,
    value: rate(name),
    unit: 'req/s',
    ...(i === 0 ? {} : { baseline: undiciName }),
    extra: {
      'vs axios stack': `${(rate(name) / rate(axiosName)).toFixed(2)}x`,
      'client CPU/req': formatNs(cpu(name)),
      'CPU vs undici': `${(cpu(name) / cpu(undiciName)).toFixed(2)}x`,
      target: i === 2 ? targets(rate(name) / rate(undiciName), rate(name) / rate(axiosName)) : '',
    },
  }));
  printTable(
    `HTTP GET, JSON answer, ${IN_FLIGHT} in flight, server in a child process (req/s, higher is better)`,
    rows,
  );
  // The machine may be shared: the figures mean little without the load they were taken at.
  process.stdout.write(
    `${ROUNDS} rounds of ${ROUND_MS} ms; 1-minute load average ${loadAtStart.toFixed(2)} at start, ${loadavg()[0]!.toFixed(2)} at end\n`,
  );
  await ours.close();
  await pool.close();
  agent.destroy();
  child.kill();
}

await main();
