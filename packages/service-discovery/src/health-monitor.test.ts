import { ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { asr } from '../test/fixtures';
import { ServiceRegistry } from './registry';

afterEach(() => {
  vi.useRealTimers();
});

describe('ServiceRegistry: health state machine', () => {
  it('first result decides; then thresholds damp flapping; timers follow the clock', async () => {
    vi.useFakeTimers();
    const results: boolean[] = [false, true, false, false, true, true, true];
    const registry = new ServiceRegistry({
      healthCheck: async () => {
        const next = results.shift();
        if (next === undefined) throw new Error('no more');
        return next;
      },
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0,
      unhealthyThreshold: 2,
      healthyThreshold: 3,
    });
    const changes: string[] = [];
    registry.on('healthChanged', (e) => changes.push(`${e.previous}->${e.current}`));
    registry.register(asr(1));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(0);
    expect(changes).toEqual(['unknown->unhealthy']);
    await vi.advanceTimersByTimeAsync(1_000); // true: 1 of 3
    await vi.advanceTimersByTimeAsync(1_000); // false: reset
    expect(registry.getHealth('asr-1')).toBe('unhealthy');
    await vi.advanceTimersByTimeAsync(1_000); // false
    await vi.advanceTimersByTimeAsync(3_000); // true x3
    expect(changes).toEqual(['unknown->unhealthy', 'unhealthy->healthy']);
    expect(registry.getHealthyInstances('asr')).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(2_000); // throws twice
    expect(changes.at(-1)).toBe('healthy->unhealthy');
    registry.stop();
    expect(vi.getTimerCount()).toBe(0);
    await registry.close();
  });

  it('reports every check that ran (not only changes) with its duration and error', async () => {
    vi.useFakeTimers();
    const results: boolean[] = [true, true, false];
    const registry = new ServiceRegistry({
      healthCheck: async () => {
        await new Promise((resolve) => setTimeout(resolve, 25));
        return results.shift() ?? false;
      },
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0,
      unhealthyThreshold: 2,
    });
    const checks: Array<{ id: string; healthy: boolean; durationMs: number; code?: string }> = [];
    registry.on('healthChecked', (e) =>
      checks.push({
        id: e.instance.serviceId,
        healthy: e.healthy,
        durationMs: e.durationMs,
        ...(e.error === undefined ? {} : { code: e.error.code }),
      }),
    );
    const changes: string[] = [];
    registry.on('healthChanged', (e) => changes.push(e.current));
    registry.register(asr(1));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(25);
    await vi.advanceTimersByTimeAsync(1_025);
    await vi.advanceTimersByTimeAsync(1_025);
    expect(checks).toEqual([
      { id: 'asr-1', healthy: true, durationMs: 25 },
      { id: 'asr-1', healthy: true, durationMs: 25 },
      { id: 'asr-1', healthy: false, durationMs: 25, code: ServiceErrorCode.SERVICE_UNAVAILABLE },
    ]);
    // One change for three checks: the failure is below the unhealthy threshold.
    expect(changes).toEqual(['healthy']);
    await registry.close();
  });

  it('does not report a check that was cut short by stop() or whose instance left', async () => {
    vi.useFakeTimers();
    const registry = new ServiceRegistry({
      healthCheck: (_i, signal) =>
        new Promise((resolve) => {
          const timer = setTimeout(() => resolve(true), 100);
          signal.addEventListener('abort', () => {
            clearTimeout(timer);
            resolve(false);
          });
        }),
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0,
    });
    const checks: string[] = [];
    registry.on('healthChecked', (e) => checks.push(e.instance.serviceId));
    registry.register(asr(1));
    registry.register(asr(2));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(10);
    registry.deregister('asr-2');
    registry.stop();
    await vi.advanceTimersByTimeAsync(200);
    expect(checks).toEqual([]);
    await registry.close();
  });

  it('times a hung check out, and stop() aborts a check in flight', async () => {
    vi.useFakeTimers();
    const signals: AbortSignal[] = [];
    const registry = new ServiceRegistry({
      healthCheck: (_i, signal) => {
        signals.push(signal);
        return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason)));
      },
      healthCheckTimeoutMs: 500,
      healthCheckIntervalMs: 10_000,
    });
    const change = new Promise<unknown>((resolve) => registry.on('healthChanged', resolve));
    registry.register(asr(1));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(500);
    expect(await change).toMatchObject({ current: 'unhealthy', error: { code: ServiceErrorCode.TIMEOUT } });
    await vi.advanceTimersByTimeAsync(12_000);
    expect(signals).toHaveLength(2);
    registry.stop();
    expect(signals[1]!.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    await registry.close();
  });

  it('checks instances registered after startHealthChecks and forgets removed ones', async () => {
    vi.useFakeTimers();
    const checked: string[] = [];
    const registry = new ServiceRegistry({
      healthCheck: async (i) => {
        checked.push(i.serviceId);
        return true;
      },
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0,
    });
    registry.startHealthChecks();
    registry.register(asr(1));
    await vi.advanceTimersByTimeAsync(0);
    expect(checked).toEqual(['asr-1']);
    registry.deregister('asr-1');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(checked).toEqual(['asr-1']);
    expect(vi.getTimerCount()).toBe(0);
    await registry.close();
  });

  it('draws the jitter from the injected random source', async () => {
    vi.useFakeTimers();
    const checkedAt: number[] = [];
    const registry = new ServiceRegistry({
      healthCheck: async () => {
        checkedAt.push(Date.now());
        return true;
      },
      healthCheckIntervalMs: 1_000,
      healthCheckJitter: 0.5,
      random: () => 0, // the shortest interval: 1 000 − 50 %
    });
    registry.register(asr(1));
    const start = Date.now();
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(checkedAt.map((t) => t - start)).toEqual([0, 500, 1_000]);
    await registry.close();
  });

  it('the longest interval with the widest jitter stays within a timer: no hot loop', async () => {
    vi.useFakeTimers();
    let checks = 0;
    const registry = new ServiceRegistry({
      healthCheck: async () => {
        checks++;
        return true;
      },
      healthCheckIntervalMs: 2 ** 31 - 1,
      healthCheckJitter: 1,
      random: () => 0.999_999, // would stretch the interval to almost twice what a timer holds
    });
    registry.register(asr(1));
    registry.startHealthChecks();
    await vi.advanceTimersByTimeAsync(60_000);
    expect(checks).toBe(1);
    await registry.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});
