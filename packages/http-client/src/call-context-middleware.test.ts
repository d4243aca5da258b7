import { describe, expect, it } from 'vitest';
import { json, testScope } from '../test/servers';
import { callContextMiddleware, currentCallContext, withCallContext } from './call-context-middleware';
import { ServiceClient } from './service-client';

const { serve } = testScope();

describe('callContextMiddleware (connect signature)', () => {
  it('runs the rest of the request with the caller id and deadline, and echoes the id', async () => {
    const clock = { now: () => 1_000_000, setTimeout, clearTimeout } as never;
    const use = callContextMiddleware({ clock, createCorrelationId: () => 'fresh-id' });
    const server = await serve((req, res) =>
      use(req, res, () => {
        setImmediate(() => json(res, 200, currentCallContext() ?? null)); // still in context after a hop
      }),
    );
    const send = (headers: Record<string, string>) => fetch(`${server.url}/`, { headers });
    const given = await send({ 'x-correlation-id': 'caller-id', 'x-request-timeout-ms': '2500' });
    expect(given.headers.get('x-correlation-id')).toBe('caller-id');
    expect(await given.json()).toEqual({ correlationId: 'caller-id', deadline: 1_002_500 });
    const bad = await send({ 'x-correlation-id': 'has space', 'x-request-timeout-ms': '-5' });
    expect(bad.headers.get('x-correlation-id')).toBe('fresh-id');
    expect(await bad.json()).toEqual({ correlationId: 'fresh-id' });
  });

  it('caps a caller deadline at maxDeadlineMs, and sets one when none came', async () => {
    const clock = { now: () => 0, setTimeout, clearTimeout } as never;
    const server = await serve(
      withCallContext((_req, res) => json(res, 200, currentCallContext()), { clock, maxDeadlineMs: 1_000 }),
    );
    const long = await fetch(server.url, { headers: { 'x-request-timeout-ms': '60000' } });
    expect(((await long.json()) as { deadline: number }).deadline).toBe(1_000);
    const none = await fetch(server.url);
    expect(((await none.json()) as { deadline: number }).deadline).toBe(1_000);
  });

  it('refuses bad options by name', () => {
    expect(() => callContextMiddleware({ maxDeadlineMs: 0 })).toThrow(/maxDeadlineMs/);
    expect(() => withCallContext(() => {}, { clock: {} as never })).toThrow(/clock/);
  });
});

describe('ServiceClient.close', () => {
  it('refuses requests once closed', async () => {
    const server = await serve((_req, res) => json(res, 200, {}));
    const c = new ServiceClient({ serviceName: 's', baseUrl: server.url });
    await c.get('/');
    await c.close();
    await expect(c.get('/')).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
      message: expect.stringMatching(/closed/),
    });
  });
});
