import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type HealthCheckResponse, HealthClient, HealthService } from '@clone/service-discovery';
import { waitFor } from '@clone/test-servers';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { bindGrpcHealth } from './grpc-health';
import { createHealthMonitor } from './health-monitor';
import { createHealthRoutes } from './health-routes';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function grpcServer(health: HealthService): Promise<number> {
  const server = new grpc.Server();
  health.addTo(server);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  cleanups.push(() => server.forceShutdown());
  return port;
}

async function httpServer(handler: Parameters<typeof createServer>[1]): Promise<string> {
  const server: HttpServer = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function check(client: InstanceType<typeof HealthClient>, service = ''): Promise<string> {
  return new Promise((resolve, reject) =>
    client.Check({ service }, (error: grpc.ServiceError | null, response?: HealthCheckResponse) =>
      error ? reject(error) : resolve(response!.status),
    ),
  );
}

describe('bindGrpcHealth', () => {
  it('keeps grpc.health.v1 Check and Watch in step with the HTTP routes', async () => {
    const db = { up: true };
    const monitor = createHealthMonitor({ serviceName: 'asr', cacheTtlMs: 0 }).register({
      name: 'postgres',
      check: () => db.up,
    });
    const health = new HealthService({ '': 'UNKNOWN', 'clone.asr.v1.AsrService': 'UNKNOWN' });
    const unbind = bindGrpcHealth(monitor, health, { services: ['clone.asr.v1.AsrService'], intervalMs: 20 });
    cleanups.push(unbind);
    const port = await grpcServer(health);
    const base = await httpServer(createHealthRoutes(monitor));
    const client = new HealthClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    cleanups.push(() => client.close());

    const watched: string[] = [];
    const watch = client.Watch({ service: '' });
    watch.on('data', (response: HealthCheckResponse) => watched.push(response.status));
    watch.on('error', () => {});
    cleanups.push(() => watch.cancel());

    await waitFor(async () => (await check(client)) === 'SERVING', 5_000, 'SERVING');
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);
    expect(await check(client, 'clone.asr.v1.AsrService')).toBe('SERVING');

    db.up = false;
    // An HTTP probe re-evaluates: gRPC follows at once, before the next poll.
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    expect(await check(client)).toBe('NOT_SERVING');
    expect(await check(client, 'clone.asr.v1.AsrService')).toBe('NOT_SERVING');

    db.up = true;
    // The poll brings it back without any HTTP probe.
    await waitFor(async () => (await check(client)) === 'SERVING', 5_000, 'SERVING');
    expect((await fetch(`${base}/health/ready`)).status).toBe(200);

    monitor.beginShutdown();
    expect(await check(client)).toBe('NOT_SERVING');
    expect((await fetch(`${base}/health/ready`)).status).toBe(503);
    await waitFor(async () => watched.at(-1) === 'NOT_SERVING', 5_000, 'Watch to say NOT_SERVING');
    expect(watched).toContain('SERVING');
    expect(watched.indexOf('NOT_SERVING')).toBeGreaterThan(watched.indexOf('SERVING'));
  });
});
