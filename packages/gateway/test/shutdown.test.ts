import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { call, registryOf, startGateway, startUpstream, stopUpstreams } from './support';

afterEach(stopUpstreams);

describe('graceful shutdown', () => {
  it('stops accepting and lets the requests in flight finish', async () => {
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived!: () => void;
    const arrivedP = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const slow = await startUpstream('slow', (_req, res) => {
      arrived();
      void released.then(() => {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.end('finished');
      });
    });
    const g = await startGateway({
      routes: [{ path: '/api/v1/work/*', service: 'worker', auth: false }],
      discovery: registryOf({ worker: [slow] }),
    });
    const inFlight = call(`${g.url}/api/v1/work/job`, { method: 'POST', body: '{}' });
    await arrivedP;
    let closed = false;
    const closing = g.gateway.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setTimeout(r, 50));
    expect(closed).toBe(false);
    expect(g.gateway.server.listening).toBe(false);
    await expect(call(`${g.url}/api/v1/health`)).rejects.toThrow();
    release();
    const res = await inFlight;
    expect(res.status).toBe(200);
    expect(res.text).toBe('finished');
    await closing;
    expect(closed).toBe(true);
    await g.close();
    expect(g.gateway.server.listening).toBe(false);
  });

  it('cuts requests still running after drainTimeoutMs', async () => {
    const stuck = await startUpstream('stuck', () => undefined);
    const g = await startGateway({
      routes: [{ path: '/api/v1/work/*', service: 'worker', auth: false }],
      discovery: registryOf({ worker: [stuck] }),
      drainTimeoutMs: 100,
    });
    const inFlight = call(`${g.url}/api/v1/work/job`).then(
      (r) => r.status,
      () => 'cut',
    );
    await new Promise((r) => setTimeout(r, 50));
    await g.close();
    expect(await inFlight).toBe('cut');
  });

  it('leaves no handle: a process that closes its gateway exits by itself', async () => {
    // A child process, so that nothing else of the test runner keeps it alive.
    const script = `
      import { createGateway } from '@clone/gateway';
      import { ServiceRegistry } from '@clone/service-discovery';
      import * as http from 'node:http';
      const upstream = http.createServer((req, res) => res.end('ok')).listen(0, '127.0.0.1');
      await new Promise((r) => upstream.once('listening', r));
      const registry = new ServiceRegistry();
      registry.register({ serviceId: 'u1', serviceName: 'u', host: '127.0.0.1', port: upstream.address().port, protocol: 'http' });
      const gateway = createGateway({ routes: [{ path: '/api/v1/u/*', service: 'u', auth: false }], discovery: registry, healthCheckIntervalMs: 50 });
      const url = await gateway.listen();
      const res = await fetch(url + '/api/v1/u/x');
      await res.text();
      await new Promise((r) => setTimeout(r, 120));
      await gateway.close();
      await registry.close();
      upstream.close();
      process.stdout.write('closed ' + res.status);
    `;
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const result = await new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', '--conditions=@clone/source', '--input-type=module', '-e', script],
        { cwd: root, timeout: 20_000 },
        (error, out, err) => resolve({ code: error === null ? 0 : (error.code as number | null), out, err }),
      );
    });
    expect(result.err).toBe('');
    expect(result.out).toBe('closed 200');
    expect(result.code).toBe(0);
  });
});
