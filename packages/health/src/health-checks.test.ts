import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { HealthService } from '@clone/service-discovery';
import { isServiceError } from '@clone/service-errors';
import { startEtcd } from '@clone/test-servers';
import * as grpc from '@grpc/grpc-js';
import { Etcd3 } from 'etcd3';
import { afterEach, describe, expect, it } from 'vitest';
import { HealthChecks } from './health-checks';
import { createHealthMonitor } from './health-monitor';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function http(handler: Parameters<typeof createServer>[1]): Promise<{ base: string; server: Server }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return { base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

async function run(indicator: ReturnType<typeof HealthChecks.database>) {
  const report = await createHealthMonitor({ serviceName: 'me', cacheTtlMs: 0, checkTimeoutMs: 2_000 })
    .register(indicator)
    .report();
  return report.checks[indicator.name]!;
}

describe('HealthChecks', () => {
  it('database: up unless the ping fails or says false', async () => {
    expect((await run(HealthChecks.database('pg', async () => 'PONG'))).status).toBe('up');
    expect((await run(HealthChecks.database('pg', async () => false))).status).toBe('down');
    expect(await run(HealthChecks.database('pg', () => Promise.reject(new Error('gone'))))).toMatchObject({
      status: 'down',
      error: 'gone',
    });
  });

  it('rabbitmq: follows isConnected', async () => {
    expect((await run(HealthChecks.rabbitmq('mq', () => true))).status).toBe('up');
    expect((await run(HealthChecks.rabbitmq('mq', () => false))).status).toBe('down');
  });

  it('httpService: probes /health of a bare base URL, the given path otherwise, 2xx up', async () => {
    const paths: string[] = [];
    let status = 200;
    const { base } = await http((req, res) => {
      paths.push(req.url ?? '');
      res.statusCode = status;
      res.end();
    });
    expect((await run(HealthChecks.httpService('access', base))).status).toBe('up');
    expect((await run(HealthChecks.httpService('access', `${base}/ready`))).status).toBe('up');
    expect(paths).toEqual(['/health', '/ready']);
    status = 503;
    expect(await run(HealthChecks.httpService('access', base))).toMatchObject({
      status: 'down',
      error: 'GET /health answered 503',
    });
  });

  it('httpService: a callee that is gone is down, not an exception', async () => {
    const { base, server } = await http((_req, res) => res.end());
    await new Promise((resolve) => server.close(resolve));
    const result = await run(HealthChecks.httpService('access', base));
    expect(result.status).toBe('down');
    expect(result.error).toMatch(/ECONNREFUSED|refused/i);
  });

  it('grpcService: SERVING is up, NOT_SERVING is down', async () => {
    const health = new HealthService({ '': 'SERVING' });
    const server = new grpc.Server();
    health.addTo(server);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
        e ? reject(e) : resolve(p),
      ),
    );
    cleanups.push(() => server.forceShutdown());
    expect((await run(HealthChecks.grpcService('tts', `127.0.0.1:${port}`))).status).toBe('up');
    health.setStatus('', 'NOT_SERVING');
    expect(await run(HealthChecks.grpcService('tts', `127.0.0.1:${port}`))).toMatchObject({
      status: 'down',
      error: 'health status NOT_SERVING',
    });
  });

  it('etcd: up while a real etcd answers, down once it is gone', async () => {
    const etcd = await startEtcd();
    cleanups.push(() => etcd.stop());
    const client = new Etcd3({ hosts: etcd.endpoint });
    cleanups.push(() => client.close());
    const up = await run(HealthChecks.etcd('etcd', client, { timeoutMs: 1_000 }));
    expect(up.status).toBe('up');
    expect(up.details?.version).toMatch(/^3\./);
    await etcd.kill();
    expect((await run(HealthChecks.etcd('etcd', client, { timeoutMs: 1_000 }))).status).toBe('down');
  });

  it('refuses a bad URL or target, naming it', () => {
    const message = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        if (isServiceError(error) && error.code === 'BAD_REQUEST') return error.message;
      }
      return 'no BAD_REQUEST';
    };
    expect(message(() => HealthChecks.httpService('a', 'access-service:3002'))).toMatch(/url must be/);
    expect(message(() => HealthChecks.httpService('a', 'ftp://x/'))).toMatch(/http or https/);
    expect(message(() => HealthChecks.grpcService('a', 'localhost'))).toMatch(/target must be 'host:port'/);
    expect(message(() => HealthChecks.grpcService('a', 'localhost:99999'))).toMatch(/target port/);
  });
});
