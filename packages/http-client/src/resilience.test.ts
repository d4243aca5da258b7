/**
 * The client against callees that misbehave, all real sockets on loopback: outages, slow
 * answers, 429 with Retry-After, stale keep-alive sockets, a callee killed mid-answer, and the
 * retry budget and circuit breaker they meet.
 */

import { Readable } from 'node:stream';
import { ServiceRegistry } from '@clone/service-discovery';
import { RetryBudget, ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import {
  json,
  manualClock,
  rejection,
  startDoomedCallee,
  startServer,
  startStaleSocketServer,
  testScope,
} from '../test/servers';
import { CIRCUIT_OPEN_MESSAGE } from './service-client';

const { serve, client, defer } = testScope();

/** A loopback URL nothing listens on: a server started and closed. */
async function deadUrl(): Promise<string> {
  const s = await startServer(() => {});
  await s.close();
  return s.url;
}

describe('outages and the circuit breaker', () => {
  it('retries a refused connection, then opens the circuit and fails fast with the documented message', async () => {
    const c = client({
      baseUrl: await deadUrl(),
      circuitBreaker: { failureThreshold: 3, resetTimeout: 60_000 },
    });
    const states: string[] = [];
    c.onCircuitEvent('circuit:state_changed', (state) => states.push(state));
    const first = await rejection(c.get('/api/doors'));
    expect(first.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(first.attempts).toBe(3);
    expect(c.getCircuitState()).toBe('OPEN');
    expect(states).toEqual(['OPEN']);
    const fast = await rejection(c.get('/api/doors'));
    expect(fast.message).toBe(CIRCUIT_OPEN_MESSAGE);
    expect(fast.code).toBe(ServiceErrorCode.CIRCUIT_OPEN);
  });

  it('never repeats a POST without an Idempotency-Key; repeats one with a key, the same key each time', async () => {
    const server = await serve((_req, res, i) =>
      i <= 1 ? json(res, 503, { error: 'restarting' }) : json(res, 200, { ok: i }),
    );
    const plain = client({ baseUrl: server.url });
    expect((await rejection(plain.post('/orders', { n: 1 }))).code).toBe(
      ServiceErrorCode.SERVICE_UNAVAILABLE,
    );
    expect(server.requests).toHaveLength(1);
    const keyed = client({ baseUrl: server.url, autoIdempotencyKey: true });
    await expect(keyed.post('/orders', { n: 2 })).resolves.toEqual({ ok: 2 });
    const keys = server.requests.map((r) => r.headers['idempotency-key']);
    expect(keys).toHaveLength(3);
    expect(keys[0]).toBeUndefined();
    expect(typeof keys[1]).toBe('string');
    expect(keys[2]).toBe(keys[1]);
  });

  it('streams a request body and never sends a stream twice, even with an Idempotency-Key', async () => {
    const bodies: string[] = [];
    const server = await serve(async (req, res) => {
      let text = '';
      for await (const chunk of req) text += chunk;
      bodies.push(text);
      json(res, 503, { error: 'busy' });
    });
    const c = client({ baseUrl: server.url });
    const upload = Readable.from(['chunk-1,', 'chunk-2']);
    const error = await rejection(c.put('/upload', upload, { idempotencyKey: 'k-1' }));
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(bodies).toEqual(['chunk-1,chunk-2']);
  });

  it('stops retrying at the shared retry budget, so an outage is not multiplied', async () => {
    const server = await serve((_req, res) => json(res, 503, { error: 'down' }));
    const budget = new RetryBudget({ ratio: 0.2, minRetriesPerSecond: 0, windowMs: 60_000 });
    const a = client({
      baseUrl: server.url,
      retryBudget: budget,
      circuitBreaker: { failureThreshold: 1_000 },
    });
    const b = client({
      baseUrl: server.url,
      retryBudget: budget,
      circuitBreaker: { failureThreshold: 1_000 },
    });
    const reasons: string[] = [];
    a.getRetryPolicy().on('giveUp', (e) => reasons.push(e.reason));
    b.getRetryPolicy().on('giveUp', (e) => reasons.push(e.reason));
    for (let i = 0; i < 25; i++) {
      await rejection(a.get('/x'));
      await rejection(b.get('/x'));
    }
    // 50 calls earn 10 retries: 60 requests reach the server, not 150.
    expect(server.requests).toHaveLength(60);
    expect(reasons.filter((r) => r === 'budget').length).toBeGreaterThan(40);
  });
});

describe('slow callees and pushback', () => {
  it('times out a slow answer and aborts the request on the wire', async () => {
    let aborted!: () => void;
    const closed = new Promise<void>((resolve) => {
      aborted = resolve;
    });
    const server = await serve((req) => req.on('close', aborted)); // never answers
    const c = client({
      baseUrl: server.url,
      circuitBreaker: { timeout: 200 },
      retryPolicy: { maxRetries: 0 },
    });
    const error = await rejection(c.get('/slow'));
    expect(error.code).toBe(ServiceErrorCode.TIMEOUT);
    await closed; // the server saw the socket go
  });

  it('retries at once on 429 with Retry-After: 0', async () => {
    const server = await serve((_req, res, i) =>
      i === 0 ? json(res, 429, { error: 'slow down' }, { 'retry-after': '0' }) : json(res, 200, { ok: true }),
    );
    const c = client({ baseUrl: server.url, retryPolicy: { maxRetries: 1, initialDelay: 60_000 } });
    await expect(c.get('/x')).resolves.toEqual({ ok: true });
  });

  it('waits the seconds Retry-After asks for instead of its own backoff', async () => {
    const server = await serve((_req, res, i) =>
      i === 0 ? json(res, 503, { error: 'busy' }, { 'retry-after': '2' }) : json(res, 200, { ok: true }),
    );
    const { clock, advance } = manualClock(Date.now());
    const c = client({ baseUrl: server.url, clock, retryPolicy: { maxRetries: 1, initialDelay: 60_000 } });
    let waiting!: (delayMs: number) => void;
    const retried = new Promise<number>((resolve) => {
      waiting = resolve;
    });
    c.getRetryPolicy().on('retry', (e) => waiting(e.delayMs));
    const call = c.get('/x');
    expect(await retried).toBe(2_000);
    advance(1_999);
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.requests).toHaveLength(1); // still waiting: time is the client clock's
    advance(1);
    await expect(call).resolves.toEqual({ ok: true });
    expect(server.requests).toHaveLength(2);
  });

  it('honours Retry-After as an HTTP date', async () => {
    const server = await serve((_req, res, i) =>
      i === 0
        ? json(res, 503, { error: 'later' }, { 'retry-after': new Date(Date.now() - 5_000).toUTCString() })
        : json(res, 200, { ok: true }),
    );
    const c = client({ baseUrl: server.url, retryPolicy: { maxRetries: 1, initialDelay: 60_000 } });
    await expect(c.get('/x')).resolves.toEqual({ ok: true });
  });

  it('gives up at once when Retry-After passes the deadline, with RATE_LIMIT_EXCEEDED and the wait', async () => {
    const server = await serve((_req, res) => json(res, 429, { error: 'quota' }, { 'retry-after': '120' }));
    const c = client({ baseUrl: server.url });
    const reasons: string[] = [];
    c.getRetryPolicy().on('giveUp', (e) => reasons.push(e.reason));
    const error = await rejection(c.get('/x', { timeoutMs: 5_000 }));
    expect(error.code).toBe(ServiceErrorCode.RATE_LIMIT_EXCEEDED);
    expect(error.retryAfterMs).toBe(120_000);
    expect(server.requests).toHaveLength(1);
    expect(reasons).toEqual(['pushback']);
  });
});

describe('broken connections', () => {
  it('sends a request again on a fresh connection when a stale pooled socket swallowed it', async () => {
    const server = await startStaleSocketServer();
    defer(() => server.close());
    // No retries at all: the resend is the pool's repair, not a retry.
    const c = client({ baseUrl: server.url, retryPolicy: { maxRetries: 0 }, connections: 1 });
    for (let i = 1; i <= 3; i++) await expect(c.get('/x')).resolves.toEqual({ ok: true, connection: i });
    expect(server.connections()).toBe(3);
  });

  it('does not resend a POST a stale socket swallowed', async () => {
    const server = await startStaleSocketServer();
    defer(() => server.close());
    const c = client({ baseUrl: server.url, retryPolicy: { maxRetries: 0 }, connections: 1 });
    await c.get('/x');
    const error = await rejection(c.post('/x', { n: 1 }));
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.retryable).toBe(true);
  });

  it('fails with a retryable SERVICE_UNAVAILABLE when the callee is killed mid-answer', async () => {
    const callee = await startDoomedCallee();
    defer(() => callee.child.kill('SIGKILL'));
    const c = client({ baseUrl: callee.url, retryPolicy: { maxRetries: 1, initialDelay: 0 } });
    const error = await rejection(c.get('/x'));
    await callee.exited;
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.attempts).toBe(2); // the retry found nobody listening
  });
});

describe('discovery', () => {
  it('spreads requests over the registered instances and names an unknown service', async () => {
    const a = await serve((_req, res) => json(res, 200, 'a'));
    const b = await serve((_req, res) => json(res, 200, 'b'));
    const registry = new ServiceRegistry({});
    defer(() => registry.close());
    for (const [id, s] of [
      ['access-1', a],
      ['access-2', b],
    ] as const) {
      registry.register({
        serviceId: id,
        serviceName: 'access-service',
        host: '127.0.0.1',
        port: s.port,
        protocol: 'http',
      });
    }
    const c = client({ discovery: registry });
    const seen = new Set<string>();
    for (let i = 0; i < 8; i++) seen.add(await c.get<string>('/who'));
    expect([...seen].sort()).toEqual(['a', 'b']);
    const unknown = client({ serviceName: 'no-such-service', discovery: registry });
    const error = await rejection(unknown.get('/x'));
    expect(error.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
    expect(error.message).toContain('no-such-service');
  });
});
