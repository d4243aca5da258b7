import { createServer, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus, type EventBus } from '../src/index';
import { waitUntil } from './wait';

/**
 * A broker that takes the connection and then never answers (a restarted RabbitMQ whose quorum
 * queue did not come back never answers its declare) must not wedge the bus: each attempt is
 * bounded by setupTimeoutMs, its connection closed, and the bus tries again.
 */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function silentServer(): Promise<{ port: number; accepted: () => number }> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  const server = createServer((socket) => {
    accepted++;
    sockets.add(socket);
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  );
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return { port: address.port, accepted: () => accepted };
}

describe('RabbitMQ transport: a broker that never answers', () => {
  it('gives up each attempt after setupTimeoutMs and tries again, without wedging', async () => {
    const broker = await silentServer();
    const bus: EventBus = createEventBus({
      serviceName: 'patient',
      url: `amqp://guest:guest@127.0.0.1:${broker.port}`,
      setupTimeoutMs: 200,
      reconnectDelayMs: 10,
      maxReconnectDelayMs: 50,
    });
    cleanups.push(() => bus.close());
    const errors: Error[] = [];
    bus.on('error', (e) => errors.push(e));
    const failure = await bus.connect().catch((e: unknown) => e);
    expect(failure).toMatchObject({ code: 'SERVICE_UNAVAILABLE' });
    expect(String((failure as Error & { cause?: unknown }).cause)).toContain('setupTimeoutMs');
    await waitUntil(() => broker.accepted() >= 3, 'more attempts');
    expect(bus.isConnected()).toBe(false);
    expect(errors.length).toBeGreaterThanOrEqual(2);
  });

  it('refuses a setupTimeoutMs a timer cannot hold, naming it', () => {
    expect(() => createEventBus({ serviceName: 'x', setupTimeoutMs: 2 ** 31 })).toThrow(/setupTimeoutMs/);
  });
});
