import { ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { bodyOf, json, rejection, startServer, type TestServer } from '../test/servers';
import { callContextStorage } from './propagation-headers';
import { ServiceClient } from './service-client';

const servers: TestServer[] = [];
const clients: ServiceClient[] = [];
afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(handler: Parameters<typeof startServer>[0]): Promise<TestServer> {
  const server = await startServer(handler);
  servers.push(server);
  return server;
}

function client(
  options: Partial<ConstructorParameters<typeof ServiceClient>[0]> & { baseUrl?: string },
): ServiceClient {
  const c = new ServiceClient({
    serviceName: 'access-service',
    retryPolicy: { maxRetries: 2, initialDelay: 0 },
    ...options,
  } as ConstructorParameters<typeof ServiceClient>[0]);
  clients.push(c);
  return c;
}

describe('ServiceClient requests', () => {
  it('sends JSON with the context id, caller name, token and time left, and parses the answer', async () => {
    const server = await serve(async (req, res) => {
      json(res, 201, { method: req.method, url: req.url, got: JSON.parse(await bodyOf(req)) });
    });
    const c = client({
      baseUrl: `${server.url}/v1`,
      callerName: 'order-service',
      auth: { createAuthHeader: async (target: string) => ({ Authorization: `Bearer for-${target}` }) },
      circuitBreaker: { timeout: 5_000 },
    });
    const reply = await callContextStorage.run({ correlationId: 'corr-1' }, () =>
      c.post<{ method: string; url: string; got: unknown }>(
        '/api/doors',
        { name: 'Main Entrance' },
        { query: { b: 1 } },
      ),
    );
    expect(reply).toEqual({ method: 'POST', url: '/v1/api/doors?b=1', got: { name: 'Main Entrance' } });
    const headers = server.requests[0]!.headers;
    expect(headers['x-correlation-id']).toBe('corr-1');
    expect(headers['x-service-name']).toBe('order-service');
    expect(headers.authorization).toBe('Bearer for-access-service');
    expect(headers['content-type']).toBe('application/json');
    const left = Number(headers['x-request-timeout-ms']);
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(5_000);
  });

  it('lets a request header override the client one, and context ids override both', async () => {
    const server = await serve((_req, res) => json(res, 200, {}));
    const c = client({ baseUrl: server.url, headers: { 'X-Tenant': 'a', 'x-keep': 'k' } });
    await callContextStorage.run({ correlationId: 'ctx' }, () =>
      c.get('/', { headers: { 'x-tenant': 'b', 'X-Correlation-Id': 'mine' } }),
    );
    const h = server.requests[0]!.headers;
    expect([h['x-tenant'], h['x-keep'], h['x-correlation-id']]).toEqual(['b', 'k', 'ctx']);
    expect(server.requests[0]!.rawHeaders.filter((n) => n.toLowerCase() === 'x-tenant')).toHaveLength(1);
  });

  it('makes a correlation id per call outside a context, the same on every attempt', async () => {
    const server = await serve((_req, res, i) =>
      i === 0 ? json(res, 503, { error: 'busy' }) : json(res, 200, {}),
    );
    const ids = ['id-a', 'id-b'];
    const c = client({ baseUrl: server.url, createCorrelationId: () => ids.shift()! });
    await c.get('/x');
    expect(server.requests.map((r) => r.headers['x-correlation-id'])).toEqual(['id-a', 'id-a']);
  });

  it('returns text, bytes, an empty body as undefined, and a stream', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/empty') return void res.writeHead(204).end();
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('plain words');
    });
    const c = client({ baseUrl: server.url });
    expect(await c.get('/text')).toBe('plain words');
    expect(await c.delete('/empty')).toBeUndefined();
    expect(await c.get<Buffer>('/b', { responseType: 'buffer' })).toEqual(Buffer.from('plain words'));
    const stream = await c.get<AsyncIterable<Buffer>>('/s', { responseType: 'stream' });
    let text = '';
    for await (const chunk of stream) text += chunk;
    expect(text).toBe('plain words');
  });

  it('maps statuses to ServiceErrors and keeps the error body', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/missing') {
        res.writeHead(404, { 'content-type': 'text/html' });
        return void res.end('<h1>no such door</h1>');
      }
      json(res, 403, { success: false, error: 'Insufficient permissions', statusCode: 403, requestId: 'r1' });
    });
    const c = client({ baseUrl: server.url });
    const missing = await rejection(c.get('/missing'));
    expect(missing.code).toBe(ServiceErrorCode.NOT_FOUND);
    expect(missing.httpStatus).toBe(404);
    expect(missing.metadata).toMatchObject({ status: 404, body: '<h1>no such door</h1>' });
    const forbidden = await rejection(c.put('/doors/1', { open: true }));
    expect(forbidden.code).toBe(ServiceErrorCode.FORBIDDEN);
    expect(forbidden.message).toContain('Insufficient permissions');
    expect(forbidden.metadata?.body).toMatchObject({ requestId: 'r1' });
    expect(server.requests).toHaveLength(2); // neither retried
  });

  it('refuses a response over maxResponseBytes, declared or chunked', async () => {
    const server = await serve((req, res) => {
      if (req.url === '/declared') return json(res, 200, { blob: 'x'.repeat(2_000) });
      res.writeHead(200, { 'content-type': 'application/json' }); // chunked: no length
      res.write('"');
      res.write('y'.repeat(2_000));
      res.end('"');
    });
    const c = client({ baseUrl: server.url, maxResponseBytes: 1_000 });
    for (const path of ['/declared', '/chunked']) {
      const error = await rejection(c.get(path));
      expect(error.code).toBe(ServiceErrorCode.INTERNAL_ERROR);
      expect(error.metadata).toMatchObject({ maxResponseBytes: 1_000 });
    }
    expect(await c.get<string>('/chunked', { maxResponseBytes: 5_000 })).toHaveLength(2_000);
  });
});

describe('ServiceClient input checks', () => {
  it('refuses bad options by name', () => {
    const discovery = { getServiceInstance: () => ({ host: 'h', port: 1 }) };
    expect(() => new ServiceClient({ serviceName: 'a', baseUrl: 'http://x', discovery })).toThrow(
      /discovery/,
    );
    expect(() => new ServiceClient({ serviceName: 'not a host' })).toThrow(/serviceName/);
    expect(() => new ServiceClient({ serviceName: 'a', baseUrl: 'ftp://x' })).toThrow(/baseUrl/);
    expect(() => new ServiceClient({ serviceName: 'a', baseUrl: 'http://x/?q=1' })).toThrow(/baseUrl/);
    expect(() => new ServiceClient({ serviceName: '', baseUrl: 'http://x' })).toThrow(/serviceName/);
    expect(
      () => new ServiceClient({ serviceName: 'a', baseUrl: 'http://x', retryPolicy: { maxRetries: -1 } }),
    ).toThrow(/maxRetries/);
    expect(() => new ServiceClient({ serviceName: 'a', baseUrl: 'http://x', auth: {} as never })).toThrow(
      /auth/,
    );
  });

  it('rejects a bad path, method, header or body with BAD_REQUEST and sends nothing', async () => {
    const server = await serve((_req, res) => json(res, 200, {}));
    const c = client({ baseUrl: server.url });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    const cases: Array<[Promise<unknown>, string]> = [
      [c.get('http://elsewhere/x'), 'path'],
      [c.get('doors'), 'path'],
      [c.get('/a b'), 'path'],
      [c.get('//evil.example/x'), 'path'],
      [c.request('GE T', '/x'), 'method'],
      [c.get('/x', { headers: { 'x-a': 'v\r\nx-b: injected' } }), 'headers.x-a'],
      [c.post('/x', cyclic), 'body'],
      [c.get('/x', { timeoutMs: 0 }), 'timeoutMs'],
    ];
    for (const [call, field] of cases) {
      const error = await rejection(call);
      expect(error.code, field).toBe(ServiceErrorCode.BAD_REQUEST);
      expect(error.metadata?.field).toBe(field);
    }
    expect(server.requests).toHaveLength(0);
  });
});

describe('ServiceClient and the call context middleware', () => {
  it('keeps one correlation id and a shrinking deadline across two HTTP hops', async () => {
    const { withCallContext } = await import('./call-context-middleware');
    const seen: Array<{ id: string | undefined; left: number }> = [];
    const back = await serve((req, res) => {
      seen.push({
        id: req.headers['x-correlation-id'] as string,
        left: Number(req.headers['x-request-timeout-ms']),
      });
      json(res, 200, { ok: true });
    });
    const backClient = client({ serviceName: 'back', baseUrl: back.url });
    const front = await serve(
      withCallContext(async (req, res) => {
        seen.push({
          id: req.headers['x-correlation-id'] as string,
          left: Number(req.headers['x-request-timeout-ms']),
        });
        json(res, 200, await backClient.get('/inner'));
      }),
    );
    const frontClient = client({
      serviceName: 'front',
      baseUrl: front.url,
      circuitBreaker: { timeout: 3_000 },
    });
    const reply = await callContextStorage.run({ correlationId: 'trace-7' }, () => frontClient.get('/outer'));
    expect(reply).toEqual({ ok: true });
    expect(seen.map((s) => s.id)).toEqual(['trace-7', 'trace-7']);
    expect(seen[1]!.left).toBeLessThanOrEqual(seen[0]!.left);
    expect(seen[0]!.left).toBeLessThanOrEqual(3_000);
  });
});
