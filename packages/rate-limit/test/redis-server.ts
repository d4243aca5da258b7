import { type RedisServer, startRedis } from '@clone/test-servers';
import { Redis, type RedisOptions } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';

/**
 * A private Redis for this test file, started before its tests and stopped after, and the
 * clients made on it (closed after). `redis()` must be read inside tests or hooks.
 */
export function useRedis(): {
  server: () => RedisServer;
  client: (options?: Omit<RedisOptions, 'replyMapping'>) => Redis;
} {
  let server: RedisServer | undefined;
  const clients: Redis[] = [];
  beforeAll(async () => {
    server = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await server?.stop();
  });
  return {
    server: () => server!,
    client: (options: Omit<RedisOptions, 'replyMapping'> = {}) => {
      const c = new Redis(server!.url, { lazyConnect: false, ...options });
      c.on('error', () => {});
      clients.push(c);
      return c;
    },
  };
}
