import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { type EtcdServer, startEtcd } from '@clone/test-servers';
import { Etcd3 } from 'etcd3';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { EtcdBackend } from './etcd';
import { ServiceRegistry, type ServiceRegistryEvents } from './registry';

let etcd: EtcdServer;
const children: ChildProcess[] = [];
const registries: ServiceRegistry[] = [];

beforeAll(async () => {
  etcd = await startEtcd();
});
afterEach(async () => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
  await Promise.all(registries.splice(0).map((r) => r.close()));
});
afterAll(async () => {
  await etcd.stop();
});

interface ChildEvent {
  event: string;
  id?: string;
  local?: boolean;
}

/** A registry in another process (test/registry-child.ts), and what it reports. */
function child(id: string, prefix: string, ttl = 2) {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@clone/source',
      join(import.meta.dirname, '..', 'test', 'registry-child.ts'),
    ],
    {
      cwd: join(import.meta.dirname, '..'),
      env: { ...process.env, ETCD: etcd.endpoint, PREFIX: prefix, TTL: String(ttl), ID: id, NAME: 'asr' },
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  children.push(proc);
  const events: ChildEvent[] = [];
  createInterface({ input: proc.stdout! }).on('line', (line) => events.push(JSON.parse(line) as ChildEvent));
  return {
    proc,
    events,
    send: (line: string) => proc.stdin!.write(`${line}\n`),
    /** Registered ids it currently sees, from its own reports. */
    sees: () => {
      const seen = new Set<string>();
      for (const e of events) {
        if (e.event === 'registered') seen.add(e.id!);
        if (e.event === 'deregistered') seen.delete(e.id!);
      }
      return [...seen].sort();
    },
  };
}

const registry = (prefix: string, ttlSeconds = 2) => {
  const r = new ServiceRegistry({ backend: new EtcdBackend({ hosts: etcd.endpoint, prefix, ttlSeconds }) });
  registries.push(r);
  return r;
};
const ids = (r: ServiceRegistry) =>
  r
    .getInstances('asr')
    .map((i) => i.serviceId)
    .sort();

describe('EtcdBackend', () => {
  it('requires hosts or a client, and names bad options', () => {
    expect(() => new EtcdBackend({})).toThrow('EtcdBackend: hosts is required (or pass client)');
    expect(() => new EtcdBackend({ hosts: 'http://127.0.0.1:1', ttlSeconds: 0 })).toThrow(
      'EtcdBackend: ttlSeconds must be a positive integer, got 0',
    );
  });

  it.each([
    [{ ttlSeconds: 2_147_484 }, 'ttlSeconds', 'must be at most 2147483 seconds'],
    [{ callTimeoutMs: 2 ** 31 }, 'callTimeoutMs', 'must be an integer number of milliseconds'],
    [{ reconnectMaxMs: 2 ** 31 }, 'reconnectMaxMs', 'must be an integer number of milliseconds'],
    [{ reconnectMaxMs: 0 }, 'reconnectMaxMs', 'must be an integer number of milliseconds'],
    [{ hosts: 'http://127.0.0.1:99999' }, 'hosts', 'port must be an integer between 1 and 65535'],
    [{ hosts: ['127.0.0.1:2379', '127.0.0.1:0'] }, 'hosts.1', 'port must be an integer between 1 and 65535'],
  ])('refuses %o with BAD_REQUEST naming the field', (patch, field, message) => {
    let error: unknown;
    try {
      new EtcdBackend({ hosts: 'http://127.0.0.1:2379', ...patch });
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({ code: 'BAD_REQUEST', metadata: { field } });
    expect((error as Error).message).toContain(`EtcdBackend: ${field} ${message}`);
  });

  it('ignores and logs keys under the prefix that are not registrations', async () => {
    const prefix = `/garbage/${randomUUID()}/`;
    const warnings: string[] = [];
    const logger = { debug() {}, info() {}, warn: (m: string) => warnings.push(m), error() {} };
    const client = new Etcd3({ hosts: etcd.endpoint });
    try {
      await client.put(`${prefix}asr/bad-json`).value('{not json');
      await client
        .put(`${prefix}asr/bad-port`)
        .value(JSON.stringify({ serviceId: 'x', serviceName: 'asr', host: 'h', port: -1, protocol: 'grpc' }));
      const r = new ServiceRegistry({ backend: new EtcdBackend({ hosts: etcd.endpoint, prefix, logger }) });
      registries.push(r);
      r.register({ serviceId: 'good', serviceName: 'asr', host: '127.0.0.1', port: 7301, protocol: 'grpc' });
      await new Promise((resolve) => r.on('backendConnected', resolve));
      await client.put(`${prefix}asr/late-garbage`).value('[]');
      await vi.waitFor(() => expect(warnings).toHaveLength(3));
      expect(warnings[0]).toBe('etcd backend: ignoring a malformed registration');
      expect(ids(r)).toEqual(['good']);
    } finally {
      client.close();
    }
  });
});

describe('etcd backend across processes', () => {
  it('two registries in separate processes see each other, and follow each other', async () => {
    const prefix = `/cross/${randomUUID()}/`;
    const a = child('a-1', prefix);
    const b = child('b-1', prefix);
    await vi.waitFor(
      () => {
        expect(a.sees()).toEqual(['a-1', 'b-1']);
        expect(b.sees()).toEqual(['a-1', 'b-1']);
      },
      { timeout: 20_000, interval: 50 },
    );
    a.send('register a-2 7001');
    await vi.waitFor(() => expect(b.sees()).toEqual(['a-1', 'a-2', 'b-1']), { timeout: 5_000 });
    b.send('deregister b-1');
    await vi.waitFor(() => expect(a.sees()).toEqual(['a-1', 'a-2']), { timeout: 5_000 });
    a.send('close');
    await vi.waitFor(() => expect(b.sees()).toEqual([]), { timeout: 5_000 });
    expect(b.events.filter((e) => e.event === 'unhandledRejection')).toEqual([]);
  }, 40_000);

  it('kill -9 of a process removes its instances within TTL + 1 s', async () => {
    const ttl = 2;
    const prefix = `/kill/${randomUUID()}/`;
    const observer = registry(prefix, ttl);
    const doomed = child('doomed-1', prefix, ttl);
    await vi.waitFor(() => expect(ids(observer)).toEqual(['doomed-1']), { timeout: 20_000, interval: 20 });
    doomed.send('register doomed-2 7002');
    await vi.waitFor(() => expect(ids(observer)).toEqual(['doomed-1', 'doomed-2']), {
      timeout: 5_000,
      interval: 20,
    });
    const gone = new Promise<number>((resolve) => {
      let left = 2;
      observer.on('deregistered', () => {
        if (--left === 0) resolve(performance.now());
      });
    });
    const killedAt = performance.now();
    doomed.proc.kill('SIGKILL');
    const goneAfterMs = (await gone) - killedAt;
    // The promise: a dead process leaves every view within its lease TTL plus a second.
    expect(goneAfterMs).toBeLessThanOrEqual(ttl * 1000 + 1000);
    expect(ids(observer)).toEqual([]);
  }, 40_000);

  it('survives etcd stopping and restarting: no crash, no unhandled rejection, state recovers', async () => {
    const prefix = `/outage/${randomUUID()}/`;
    const unhandled: unknown[] = [];
    const onUnhandled = (error: unknown) => unhandled.push(error);
    process.on('unhandledRejection', onUnhandled);
    try {
      const a = registry(prefix);
      const b = registry(prefix);
      const remote = child('remote-1', prefix);
      const events: string[] = [];
      a.on('backendDisconnected', () => events.push('a:down'));
      a.on('backendConnected', () => events.push('a:up'));
      const errors: ServiceRegistryEvents['backendError'][] = [];
      a.on('backendError', (e) => errors.push(e));
      a.register({ serviceId: 'a-1', serviceName: 'asr', host: '127.0.0.1', port: 7101, protocol: 'grpc' });
      a.register({
        serviceId: 'a-gone',
        serviceName: 'asr',
        host: '127.0.0.1',
        port: 7102,
        protocol: 'grpc',
      });
      await vi.waitFor(() => expect(ids(b)).toEqual(['a-1', 'a-gone', 'remote-1']), { timeout: 20_000 });

      await etcd.kill();
      // Changes made during the outage: visible locally at once, published when etcd is back.
      a.register({ serviceId: 'a-2', serviceName: 'asr', host: '127.0.0.1', port: 7103, protocol: 'grpc' });
      a.deregister('a-gone');
      expect(ids(a)).toEqual(['a-1', 'a-2', 'remote-1']);
      await vi.waitFor(() => expect(errors.length).toBeGreaterThan(0), { timeout: 5_000 });
      // Longer than two TTLs: the client gives its leases up, so recovery needs new ones.
      await new Promise((resolve) => setTimeout(resolve, 4_500));
      expect(remote.proc.exitCode).toBeNull();

      await etcd.start();
      await vi.waitFor(
        () => {
          expect(ids(b)).toEqual(['a-1', 'a-2', 'remote-1']);
          expect(remote.sees()).toEqual(['a-1', 'a-2', 'remote-1']);
        },
        { timeout: 20_000, interval: 100 },
      );
      expect(events).toContain('a:down');
      expect(events.at(-1)).toBe('a:up');
      expect(errors).toContainEqual(
        expect.objectContaining({
          operation: 'publish',
          serviceId: 'a-2',
          error: expect.objectContaining({ code: 'SERVICE_UNAVAILABLE' }),
        }),
      );
      expect(errors).toContainEqual(expect.objectContaining({ operation: 'withdraw', serviceId: 'a-gone' }));
      // Still there after the old leases would have expired: they were re-attached to new ones.
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(ids(b)).toEqual(['a-1', 'a-2', 'remote-1']);
      expect(remote.proc.exitCode).toBeNull();
      expect(remote.events.filter((e) => e.event === 'unhandledRejection')).toEqual([]);
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  }, 60_000);

  it('after an outage, the first write once etcd is back goes through instead of waiting out a host breaker', async () => {
    const prefix = `/breaker/${randomUUID()}/`;
    const a = registry(prefix);
    const errors: ServiceRegistryEvents['backendError'][] = [];
    a.on('backendError', (e) => errors.push(e));
    const connections: number[] = [];
    a.on('backendConnected', () => connections.push(performance.now()));
    await vi.waitFor(() => expect(connections).toHaveLength(1), { timeout: 10_000 });

    await etcd.kill();
    // Three writes fail in a row, the last just before etcd returns: enough to open etcd3's
    // default per-host breaker, which then refused every call for 5 s after etcd was back.
    for (let i = 1; i <= 3; i++) {
      const serviceId = `during-${i}`;
      a.register({ serviceId, serviceName: 'asr', host: '127.0.0.1', port: 7300 + i, protocol: 'grpc' });
      await vi.waitFor(() => expect(errors.map((e) => e.serviceId)).toContain(serviceId), {
        timeout: 10_000,
      });
    }
    await etcd.start();
    const backAt = performance.now();
    a.register({ serviceId: 'after', serviceName: 'asr', host: '127.0.0.1', port: 7310, protocol: 'grpc' });
    const observer = registry(prefix);
    await vi.waitFor(() => expect(ids(observer)).toContain('after'), { timeout: 20_000 });
    // Its one write went through at once: no failure, so no retry.
    expect(errors.filter((e) => e.serviceId === 'after')).toEqual([]);
    await vi.waitFor(() => expect(connections).toHaveLength(2), { timeout: 20_000 });
    await vi.waitFor(() => expect(ids(observer)).toEqual(['after', 'during-1', 'during-2', 'during-3']), {
      timeout: 20_000,
    });
    // Measured for the record, not asserted: timing depends on the machine.
    process.stdout.write(
      `etcd backend reconnected ${Math.round(connections[1]! - backAt)} ms after etcd.start() resolved (negative: before its health poll saw etcd up)\n`,
    );
  }, 60_000);

  it('reports an unreachable etcd at start, and connects once it is up', async () => {
    const prefix = `/late/${randomUUID()}/`;
    await etcd.kill();
    const a = registry(prefix);
    const events: string[] = [];
    a.on('backendDisconnected', () => events.push('down'));
    a.on('backendConnected', () => events.push('up'));
    a.register({ serviceId: 'late-1', serviceName: 'asr', host: '127.0.0.1', port: 7201, protocol: 'grpc' });
    await vi.waitFor(() => expect(events).toEqual(['down']), { timeout: 10_000 });
    await etcd.start();
    await vi.waitFor(() => expect(events).toEqual(['down', 'up']), { timeout: 20_000 });
    const b = registry(prefix);
    await vi.waitFor(() => expect(ids(b)).toEqual(['late-1']), { timeout: 10_000 });
  }, 60_000);
});
