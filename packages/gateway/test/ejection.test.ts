import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvents, GatewayOptions } from '../src/index';
import { call, registryOf, startGateway, startUpstream, stopUpstreams } from './support';

afterEach(stopUpstreams);

const route = [{ path: '/api/v1/users/*', service: 'user-service', auth: false }];

async function twoInstances(
  outlierDetection: Record<string, number> = {},
  extra: Partial<Omit<GatewayOptions, 'discovery'>> = {},
) {
  const a = await startUpstream('users-a');
  const b = await startUpstream('users-b');
  const g = await startGateway({
    routes: route,
    discovery: registryOf({ 'user-service': [a, b] }),
    outlierDetection: { baseEjectionMs: 600_000, slowStartMs: 0, ...outlierDetection },
    ...extra,
  });
  const rotation: GatewayEvents['rotation'][] = [];
  g.gateway.on('rotation', (e) => rotation.push(e));
  return { a, b, g, rotation };
}

const states = async (url: string) =>
  Object.fromEntries(
    (await call(`${url}/api/v1/health/detailed`)).json.data.services[0].instances.map(
      (i: { serviceId: string; state: string }) => [i.serviceId, i.state],
    ),
  );

describe('outlier ejection and health checks', () => {
  it('takes a killed instance out after one connection failure, without failing a GET, and brings it back when its check passes', async () => {
    const { a, b, g, rotation } = await twoInstances();
    try {
      for (let i = 0; i < 4; i++) expect((await call(`${g.url}/api/v1/users/${i}`)).status).toBe(200);
      expect([a.hits, b.hits]).toEqual([2, 2]);
      await b.kill();
      for (let i = 0; i < 6; i++)
        expect((await call(`${g.url}/api/v1/users/${i}`)).json.instance).toBe('users-a');
      expect(rotation).toEqual([
        {
          service: 'user-service',
          serviceId: 'users-b',
          from: 'healthy',
          to: 'ejected',
          reason: 'connect-error',
        },
      ]);
      expect(await states(g.url)).toEqual({ 'users-a': 'healthy', 'users-b': 'ejected' });
      // Still dead: the check fails and it stays out.
      await g.gateway.checkHealth();
      expect((await states(g.url))['users-b']).not.toBe('healthy');
      await b.revive();
      await g.gateway.checkHealth();
      expect(rotation.at(-1)).toMatchObject({ serviceId: 'users-b', to: 'healthy', reason: 'health-check' });
      const seen = new Set<string>();
      for (let i = 0; i < 4; i++) seen.add((await call(`${g.url}/api/v1/users/${i}`)).json.instance);
      expect(seen).toEqual(new Set(['users-a', 'users-b']));
    } finally {
      await g.close();
    }
  });

  it('fails one POST on a dead instance (never retried) and sends the next to a live one', async () => {
    const { a, b, g } = await twoInstances();
    try {
      await b.kill();
      const results: number[] = [];
      for (let i = 0; i < 4; i++)
        results.push((await call(`${g.url}/api/v1/users`, { method: 'POST', body: '{}' })).status);
      // Round robin sends the first or second POST to b; exactly one fails, with 502.
      expect(results.filter((s) => s === 502)).toHaveLength(1);
      expect(results.filter((s) => s === 200)).toHaveLength(3);
      expect(a.hits).toBe(3);
    } finally {
      await g.close();
    }
  });

  it('ejects an instance answering 503 after the configured run, and never more than half of a service', async () => {
    const { a, b, g, rotation } = await twoInstances({ consecutiveFailures: 2 });
    try {
      b.handler = (_req, res) => {
        res.writeHead(503);
        res.end('busy');
      };
      for (let i = 0; i < 6; i++) expect((await call(`${g.url}/api/v1/users/${i}`)).status).toBe(200);
      expect(rotation.map((e) => [e.serviceId, e.to, e.reason])).toEqual([
        ['users-b', 'ejected', 'failures'],
      ]);
      expect(b.hits).toBe(2);
      // a fails too: it is the last one in rotation, so it stays and its answer is passed on.
      a.handler = b.handler;
      const res = await call(`${g.url}/api/v1/users/x`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(503);
      expect(res.text).toBe('busy');
      expect(await states(g.url)).toEqual({ 'users-a': 'healthy', 'users-b': 'ejected' });
    } finally {
      await g.close();
    }
  });

  it('takes an instance failing its health checks out after the threshold', async () => {
    const { b, g, rotation } = await twoInstances();
    try {
      b.healthy = false;
      await g.gateway.checkHealth();
      expect(rotation).toEqual([]);
      await g.gateway.checkHealth();
      expect(rotation).toEqual([
        {
          service: 'user-service',
          serviceId: 'users-b',
          from: 'healthy',
          to: 'unhealthy',
          reason: 'health-check',
        },
      ]);
      for (let i = 0; i < 4; i++)
        expect((await call(`${g.url}/api/v1/users/${i}`)).json.instance).toBe('users-a');
      b.healthy = true;
      await g.gateway.checkHealth();
      expect((await states(g.url))['users-b']).toBe('healthy');
    } finally {
      await g.close();
    }
  });

  it('retries only within the retry budget', async () => {
    const { b, g } = await twoInstances(
      { consecutiveFailures: 100 },
      { retry: { budget: { ratio: 0, minRetriesPerSecond: 0 } }, cache: false },
    );
    try {
      b.handler = (_req, res) => {
        res.writeHead(503);
        res.end();
      };
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await call(`${g.url}/api/v1/users/${i}`)).status);
      // With an empty budget the GETs that reach b are not retried on a: half of them fail.
      expect(statuses.filter((s) => s === 503)).toHaveLength(2);
      expect(b.hits).toBe(2);
    } finally {
      await g.close();
    }
  });
});
