import { GRPCUnavailableError, isRecoverableError } from 'etcd3';
import { describe, expect, it } from 'vitest';
import { etcdClientOptions, reconnectBackoff, watchBackoff } from './etcd-client';

const settings = { hosts: 'http://127.0.0.1:2379', callTimeoutMs: 5_000, reconnectMaxMs: 1_000 };

/** The first `n` delays of an etcd3 backoff, as etcd3's watch manager walks it (from `initial.next()`). */
const delays = (initial: ReturnType<typeof watchBackoff>, n: number): number[] => {
  const out: number[] = [];
  let backoff = initial.next(undefined);
  for (let i = 0; i < n; i++) {
    out.push(backoff.duration);
    backoff = backoff.next(undefined);
  }
  return out;
};

describe('etcd client fault handling', () => {
  it('the per-host policy lets every call reach etcd, however many failed before it', async () => {
    // etcd3's default refuses every call for 5 s after three consecutive failures, so the
    // registry could not reconnect for up to 5 s after etcd was back.
    const host = etcdClientOptions({ ...settings, random: Math.random }).faultHandling!.host!(
      '127.0.0.1:2379',
    );
    const outage = new GRPCUnavailableError('connect ECONNREFUSED');
    expect(isRecoverableError(outage)).toBe(true);
    for (let i = 0; i < 10; i++) {
      await expect(
        host.execute(() => {
          throw outage;
        }),
      ).rejects.toBe(outage);
    }
    let ran = false;
    await expect(
      host.execute(() => {
        ran = true;
        return 'back';
      }),
    ).resolves.toBe('back');
    expect(ran).toBe(true);
  });

  it('the watch reconnects with backoffDelay from the injected random source, never waiting past reconnectMaxMs', () => {
    const { faultHandling } = etcdClientOptions({ ...settings, random: () => 0 });
    // Equal jitter at its low end: half of a ceiling that doubles from 100 ms up to 1 s.
    expect(delays(faultHandling!.watchBackoff!, 7)).toEqual([50, 100, 200, 400, 500, 500, 500]);
    const longest = delays(
      watchBackoff(reconnectBackoff(1_000), () => 0.999_999),
      30,
    );
    expect(Math.max(...longest)).toBe(1_000);
    expect(
      delays(
        watchBackoff(reconnectBackoff(40), () => 0.999_999),
        3,
      ),
    ).toEqual([40, 40, 40]);
  });
});
