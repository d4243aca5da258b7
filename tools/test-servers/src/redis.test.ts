import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { startRedis } from './index';

describe('startRedis', () => {
  it('starts, outages (keeping its keys) and stops a private Redis', async () => {
    const redis = await startRedis();
    const client = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 50 });
    try {
      await client.set('k', 'v');
      const pid = redis.pid;
      expect(pid).toBeTypeOf('number');
      await redis.kill();
      expect(redis.pid).toBeUndefined();
      await redis.start();
      expect(redis.pid).not.toBe(pid);
      expect(await client.get('k')).toBe('v');
    } finally {
      client.disconnect();
      await redis.stop();
    }
  });
});
