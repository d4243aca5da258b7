import { createUserTokenVerifier } from '@clone/service-auth';
import { afterEach, describe, expect, it } from 'vitest';
import type { GatewayEvents } from '../src/index';
import { call, registryOf, SECRET, startGateway, startUpstream, stopUpstreams, userToken } from './support';

afterEach(stopUpstreams);

async function setup(clockStart = 1_000_000) {
  let now = clockStart;
  const products = await startUpstream('products-1', (req, res) => {
    res.writeHead(200, { 'content-type': 'application/json', etag: '"v1"' });
    res.end(JSON.stringify({ url: req.url, user: req.headers.authorization?.slice(-8) ?? null }));
  });
  const g = await startGateway({
    routes: [{ path: '/api/v1/products/*', service: 'product-service' }],
    discovery: registryOf({ 'product-service': [products] }),
    auth: createUserTokenVerifier({ secret: SECRET }),
    clock: {
      now: () => now,
      setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    },
    cache: { maxStaleMs: 60_000 },
  });
  const stale: GatewayEvents['staleServed'][] = [];
  g.gateway.on('staleServed', (e) => stale.push(e));
  return { products, g, stale, advance: (ms: number) => (now += ms) };
}

describe('graceful degradation (stale-if-error)', () => {
  it('answers a GET from the last good copy while the service is down, marked with Age and Warning', async () => {
    const { products, g, stale, advance } = await setup();
    try {
      const auth = { authorization: `Bearer ${userToken({ sub: 'alice' }, SECRET, { expiresIn: '10d' })}` };
      const fresh = await call(`${g.url}/api/v1/products/42?full=1`, { headers: auth });
      expect(fresh.status).toBe(200);
      expect(fresh.headers.warning).toBeUndefined();
      await products.kill();
      advance(7_000);
      const copy = await call(`${g.url}/api/v1/products/42?full=1`, { headers: auth });
      expect(copy.status).toBe(200);
      expect(copy.text).toBe(fresh.text);
      expect(copy.headers.age).toBe('7');
      expect(copy.headers.warning).toBe('110 - "Response is Stale"');
      expect(copy.headers.etag).toBe('"v1"');
      expect(stale).toHaveLength(1);
      expect(stale[0]).toMatchObject({
        service: 'product-service',
        path: '/api/v1/products/42',
        ageMs: 7_000,
      });
      // Another user, another query, or a copy past maxStaleMs: the error, not someone else's answer.
      const bob = { authorization: `Bearer ${userToken({ sub: 'bob' }, SECRET, { expiresIn: '10d' })}` };
      expect(
        (await call(`${g.url}/api/v1/products/42?full=1`, { headers: bob })).status,
      ).toBeGreaterThanOrEqual(502);
      expect((await call(`${g.url}/api/v1/products/42`, { headers: auth })).status).toBeGreaterThanOrEqual(
        502,
      );
      advance(60_000);
      const expired = await call(`${g.url}/api/v1/products/42?full=1`, { headers: auth });
      expect(expired.status).toBeGreaterThanOrEqual(502);
      expect(expired.json).toMatchObject({ success: false });
    } finally {
      await g.close();
    }
  });

  it('never answers a POST from a copy', async () => {
    const { products, g, stale } = await setup();
    try {
      const auth = { authorization: `Bearer ${userToken()}` };
      expect(
        (await call(`${g.url}/api/v1/products/1`, { method: 'POST', headers: auth, body: '{}' })).status,
      ).toBe(200);
      expect((await call(`${g.url}/api/v1/products/1`, { headers: auth })).status).toBe(200);
      await products.kill();
      const post = await call(`${g.url}/api/v1/products/1`, { method: 'POST', headers: auth, body: '{}' });
      expect(post.status).toBe(502);
      expect(post.json).toMatchObject({ success: false, code: 'SERVICE_UNAVAILABLE' });
      expect(post.headers.warning).toBeUndefined();
      expect(stale).toHaveLength(0);
      expect((await call(`${g.url}/api/v1/products/1`, { headers: auth })).headers.warning).toBe(
        '110 - "Response is Stale"',
      );
    } finally {
      await g.close();
    }
  });

  it('answers from the copy while the circuit is open, without calling the service', async () => {
    const { products, g } = await setup();
    try {
      const auth = { authorization: `Bearer ${userToken()}` };
      expect((await call(`${g.url}/api/v1/products/7`, { headers: auth })).status).toBe(200);
      products.handler = (_req, res) => {
        res.writeHead(503);
        res.end();
      };
      // Five failed attempts open the breaker (retries within the budget included).
      for (let i = 0; i < 5; i++) await call(`${g.url}/api/v1/products/other-${i}`, { headers: auth });
      const before = products.hits;
      const copy = await call(`${g.url}/api/v1/products/7`, { headers: auth });
      expect(copy.headers['x-gateway-cache']).toBe('stale');
      expect(products.hits).toBe(before);
      const detailed = await call(`${g.url}/api/v1/health/detailed`);
      expect(detailed.json.data.services[0].circuit).toBe('OPEN');
    } finally {
      await g.close();
    }
  });
});
