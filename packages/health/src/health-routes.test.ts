import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHealthMonitor, type HealthMonitor } from './health-monitor';
import { createHealthRoutes } from './health-routes';

let server: Server | undefined;
afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
  server = createServer(handler);
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

function monitorWith(db: { up: boolean }): HealthMonitor {
  return createHealthMonitor({ serviceName: 'auth', serviceVersion: '2.0.0', cacheTtlMs: 0 })
    .register({ name: 'postgres', check: () => db.up })
    .register({ name: 'event-loop', kind: 'liveness', check: () => true });
}

describe('createHealthRoutes', () => {
  it('answers /health, /health/live and /health/ready over real HTTP, 200 up and 503 down', async () => {
    const db = { up: true };
    const base = await serve(createHealthRoutes(monitorWith(db)));
    const full = await fetch(`${base}/health`);
    expect(full.status).toBe(200);
    expect(full.headers.get('cache-control')).toBe('no-store');
    expect(await full.json()).toMatchObject({
      status: 'healthy',
      service: 'auth',
      version: '2.0.0',
      checks: { postgres: { status: 'up' }, 'event-loop': { status: 'up', kind: 'liveness' } },
    });
    db.up = false;
    expect((await fetch(`${base}/health`)).status).toBe(503);
    const ready = await fetch(`${base}/health/ready?probe=k8s`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toEqual({ status: 'down', service: 'auth', shuttingDown: false });
    // Liveness does not follow the database: restarting the process would not bring it back.
    const live = await fetch(`${base}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'up', service: 'auth' });
    const head = await fetch(`${base}/health/ready`, { method: 'HEAD' });
    expect(head.status).toBe(503);
  });

  it('passes other requests to next(), as connect/Express middleware', async () => {
    const routes = createHealthRoutes(monitorWith({ up: true }), { path: '/ops/health/' });
    const base = await serve((req, res) =>
      routes(req, res, () => {
        res.statusCode = 418;
        res.end('app');
      }),
    );
    expect((await fetch(`${base}/ops/health/ready`)).status).toBe(200);
    const other = await fetch(`${base}/health`);
    expect(other.status).toBe(418);
    expect(await other.text()).toBe('app');
    expect((await fetch(`${base}/ops/health`, { method: 'POST' })).status).toBe(418);
  });

  it('answers 404 for other paths when it is the whole server', async () => {
    const base = await serve(createHealthRoutes(monitorWith({ up: true })));
    expect((await fetch(`${base}/nope`)).status).toBe(404);
  });
});
