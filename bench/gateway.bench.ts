/**
 * `pnpm bench:gateway`: @clone/gateway next to a direct call and @fastify/http-proxy, in the same
 * run, against one upstream in a child process (a plain node:http server answering a small JSON
 * body), with 64 connections kept busy by an undici pool in this process:
 *   - direct: the load generator straight to the upstream (what any proxy adds is on top of it);
 *   - ours, bare: routing, request id, forwarded headers, outlier detection, breaker + retry;
 *   - ours with a user token checked on every request (HS256), the design's three rate-limit
 *     tiers (in-process store, limits high enough that nothing is refused: the check is what is
 *     timed) and active health checks every second;
 *   - @fastify/http-proxy (fastify 5, undici underneath), prefix rewritten the same way.
 * Cases run in rounds, each round in a rotated order, so drift in machine load hits all; the
 * table gives the median time per request over the rounds (1 / throughput) and p50 latency.
 */
import { spawn } from 'node:child_process';
import { createGateway, type Gateway } from '@clone/gateway';
import { RateLimiter } from '@clone/rate-limit';
import { createUserTokenVerifier } from '@clone/service-auth';
import { ServiceRegistry } from '@clone/service-discovery';
import httpProxy from '@fastify/http-proxy';
import Fastify from 'fastify';
import jwt from 'jsonwebtoken';
import { Pool } from 'undici';
import { printTable, type Row } from './harness';

const CONNECTIONS = 64;
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 9);
const WARMUP_MS = 1_000;
const SECRET = 'bench-secret-that-is-long-enough-for-hs256-0123456789';

const UPSTREAM = `
const http = require('node:http');
const body = JSON.stringify({ id: 42, name: 'profile', email: 'seller@example.com', role: 'seller' });
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => process.stdout.write(String(server.address().port) + '\\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.resume();
`;

/** The upstream in a child process; it exits when this process does (its stdin closes). */
async function startUpstream(): Promise<{ port: number; stop(): void }> {
  const child = spawn(process.execPath, ['-e', UPSTREAM], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
    child.once('error', reject);
  });
  return { port, stop: () => child.kill() };
}

interface Load {
  rps: number;
  p50Ns: number;
}

/** Keeps CONNECTIONS requests in flight against `url` for `ms`; every answer must be a 200. */
async function load(
  origin: string,
  path: string,
  headers: Record<string, string>,
  ms: number,
): Promise<Load> {
  const pool = new Pool(origin, { connections: CONNECTIONS, pipelining: 1 });
  const latencies: number[] = [];
  const end = performance.now() + ms;
  let done = 0;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const start = process.hrtime.bigint();
      const res = await pool.request({ origin, path, method: 'GET', headers });
      await res.body.dump();
      if (res.statusCode !== 200) throw new Error(`${origin}${path} answered ${res.statusCode}`);
      latencies.push(Number(process.hrtime.bigint() - start));
      done++;
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONNECTIONS }, worker));
  const elapsed = performance.now() - started;
  await pool.close();
  latencies.sort((a, b) => a - b);
  return { rps: (done * 1000) / elapsed, p50Ns: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN };
}

function registryFor(port: number): ServiceRegistry {
  const registry = new ServiceRegistry();
  registry.register({
    serviceId: 'user-1',
    serviceName: 'user-service',
    host: '127.0.0.1',
    port,
    protocol: 'http',
  });
  return registry;
}

async function main(): Promise<void> {
  const upstream = await startUpstream();
  const closers: Array<() => Promise<unknown>> = [];

  const bareRegistry = registryFor(upstream.port);
  const bare = createGateway({
    routes: [{ path: '/api/v1/users/*', service: 'user-service', auth: false }],
    discovery: bareRegistry,
  });
  const bareUrl = await bare.listen();
  closers.push(
    () => bare.close(),
    () => bareRegistry.close(),
  );

  const fullRegistry = registryFor(upstream.port);
  const limiter = new RateLimiter({
    tiers: [
      { limit: 1_000_000, windowMs: 1_000 },
      { limit: 1_000_000, windowMs: 10_000 },
      { limit: 1_000_000, windowMs: 60_000 },
    ],
  });
  const full: Gateway = createGateway({
    routes: [{ path: '/api/v1/users/*', service: 'user-service', auth: true }],
    discovery: fullRegistry,
    auth: createUserTokenVerifier({ secret: SECRET }),
    rateLimits: limiter,
    healthCheckIntervalMs: 1_000,
  });
  const fullUrl = await full.listen();
  closers.push(
    () => full.close(),
    () => fullRegistry.close(),
    () => limiter.close(),
  );

  const fastify = Fastify({ logger: false });
  await fastify.register(httpProxy, {
    upstream: `http://127.0.0.1:${upstream.port}`,
    prefix: '/api/v1/users',
    rewritePrefix: '/users',
  });
  const fastifyUrl = await fastify.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => fastify.close());

  const token = jwt.sign({ sub: 'user_id_123', email: 'seller@example.com', role: 'seller' }, SECRET, {
    algorithm: 'HS256',
    expiresIn: 3600,
  });
  const cases: Array<{ name: string; run: (ms: number) => Promise<Load> }> = [
    {
      name: 'direct to upstream',
      run: (ms) => load(`http://127.0.0.1:${upstream.port}`, '/users/profile', {}, ms),
    },
    { name: 'ours, bare', run: (ms) => load(bareUrl, '/api/v1/users/profile', {}, ms) },
    {
      name: 'ours + auth + 3 tiers + health',
      run: (ms) => load(fullUrl, '/api/v1/users/profile', { authorization: `Bearer ${token}` }, ms),
    },
    { name: '@fastify/http-proxy', run: (ms) => load(fastifyUrl, '/api/v1/users/profile', {}, ms) },
  ];

  for (const c of cases) await c.run(WARMUP_MS);
  const results = new Map<string, Load[]>(cases.map((c) => [c.name, []]));
  for (let round = 0; round < ROUNDS; round++)
    for (let i = 0; i < cases.length; i++) {
      const c = cases[(i + round) % cases.length]!;
      results.get(c.name)!.push(await c.run(ROUND_MS));
    }

  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const rows: Row[] = cases.map((c) => {
    const runs = results.get(c.name)!;
    const rps = median(runs.map((r) => r.rps));
    return {
      name: c.name,
      value: 1e9 / rps,
      unit: 'ns',
      baseline: c.name === 'ours + auth + 3 tiers + health' ? 'ours, bare' : '@fastify/http-proxy',
      extra: {
        'req/s': Math.round(rps),
        'p50 latency': `${(median(runs.map((r) => r.p50Ns)) / 1e6).toFixed(2)} ms`,
      },
    };
  });
  printTable(
    `HTTP proxying, ${CONNECTIONS} connections, ${ROUNDS} rounds of ${ROUND_MS} ms (time per request = 1 / throughput; ratio < 1 is faster)`,
    rows,
  );
  const rps = (name: string): number => 1e9 / rows.find((r) => r.name === name)!.value;
  // The same ratios round by round (the two cases of a ratio ran within seconds of each other),
  // with the median and range over the rounds: on a shared machine the load moves during a run,
  // and a ratio of two medians taken at different moments can hide or invent a difference.
  const perRound = (a: string, b: string): string => {
    const ratios = results
      .get(a)!
      .map((run, i) => run.rps / results.get(b)![i]!.rps)
      .sort((x, y) => x - y);
    return `${median(ratios).toFixed(2)}x (rounds ${ratios[0]!.toFixed(2)}–${ratios.at(-1)!.toFixed(2)})`;
  };
  process.stdout.write(
    `\nthroughput: ours bare ÷ @fastify/http-proxy = ${(rps('ours, bare') / rps('@fastify/http-proxy')).toFixed(2)}x (target ≥ 0.9x); ` +
      `ours + auth + limits ÷ ours bare = ${(rps('ours + auth + 3 tiers + health') / rps('ours, bare')).toFixed(2)}x (target ≥ 0.75x)\n` +
      `per round: ours bare ÷ @fastify/http-proxy = ${perRound('ours, bare', '@fastify/http-proxy')}; ` +
      `ours + auth + limits ÷ ours bare = ${perRound('ours + auth + 3 tiers + health', 'ours, bare')}\n`,
  );

  for (const close of closers.reverse()) await close();
  upstream.stop();
}

await main();
