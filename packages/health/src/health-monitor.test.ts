import { isServiceError } from '@clone/service-errors';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createHealthMonitor } from './health-monitor';

beforeEach(() => {
  vi.useFakeTimers({ now: 1_000_000 });
});
afterEach(() => {
  vi.useRealTimers();
});

describe('HealthMonitor', () => {
  it('is ready when every critical readiness check is up, and degraded by a non-critical one', async () => {
    let cache = true;
    const monitor = createHealthMonitor({ serviceName: 'auth', serviceVersion: '1.2.3', cacheTtlMs: 0 })
      .register({ name: 'postgres', check: () => true })
      .register({ name: 'cache', critical: false, check: () => cache });
    expect(await monitor.report()).toMatchObject({
      status: 'healthy',
      ready: true,
      live: true,
      version: '1.2.3',
    });
    cache = false;
    const report = await monitor.report();
    expect(report).toMatchObject({ status: 'degraded', ready: true });
    expect(report.checks.cache).toMatchObject({
      status: 'down',
      critical: false,
      error: 'check reported down',
    });
  });

  it('is not ready when a critical check is down, throws, or times out, and says why', async () => {
    const monitor = createHealthMonitor({ serviceName: 'auth', cacheTtlMs: 0, checkTimeoutMs: 100 })
      .register({ name: 'db', check: () => Promise.reject(new Error('ECONNREFUSED')) })
      .register({ name: 'slow', check: () => new Promise(() => {}) })
      .register({ name: 'down', check: () => ({ up: false, details: { lag: 9 } }) });
    const pending = monitor.report();
    await vi.advanceTimersByTimeAsync(100);
    const report = await pending;
    expect(report.ready).toBe(false);
    expect(report.status).toBe('unhealthy');
    expect(report.checks.db?.error).toMatch(/ECONNREFUSED/);
    expect(report.checks.slow).toMatchObject({
      status: 'down',
      durationMs: 100,
      error: 'timed out after 100 ms',
    });
    expect(report.checks.down).toMatchObject({ status: 'down', details: { lag: 9 } });
  });

  it('aborts the signal of a check that times out', async () => {
    let seen: AbortSignal | undefined;
    const monitor = createHealthMonitor({ serviceName: 'auth' }).register({
      name: 'db',
      timeoutMs: 50,
      check: (signal) => {
        seen = signal;
        return new Promise(() => {});
      },
    });
    const pending = monitor.report();
    await vi.advanceTimersByTimeAsync(50);
    await pending;
    expect(seen?.aborted).toBe(true);
  });

  it('caches results for cacheTtlMs and shares one run among concurrent probes', async () => {
    let runs = 0;
    let release: () => void = () => {};
    const monitor = createHealthMonitor({ serviceName: 'auth', cacheTtlMs: 2_000 }).register({
      name: 'db',
      check: () => {
        runs++;
        return new Promise<boolean>((resolve) => {
          release = () => resolve(true);
        });
      },
    });
    const probes = Array.from({ length: 50 }, () => monitor.report());
    await vi.advanceTimersByTimeAsync(0);
    release();
    await Promise.all(probes);
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1_999);
    await monitor.ready();
    expect(runs).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    const again = monitor.ready();
    await vi.advanceTimersByTimeAsync(0);
    release();
    await again;
    expect(runs).toBe(2);
  });

  it('keeps liveness apart from dependencies', async () => {
    const monitor = createHealthMonitor({ serviceName: 'auth', cacheTtlMs: 0 })
      .register({ name: 'db', check: () => false })
      .register({ name: 'event-loop', kind: 'liveness', check: () => true });
    expect(await monitor.live()).toBe(true);
    expect(await monitor.ready()).toBe(false);
  });

  it('announces readiness changes once each, and fails readiness for good on shutdown', async () => {
    let db = true;
    const monitor = createHealthMonitor({ serviceName: 'auth', cacheTtlMs: 0 }).register({
      name: 'db',
      check: () => db,
    });
    const changes: Array<{ ready: boolean; reason: string }> = [];
    monitor.on('readiness', (change) => changes.push(change));
    await monitor.report();
    await monitor.report();
    db = false;
    await monitor.report();
    db = true;
    await monitor.report();
    monitor.beginShutdown();
    expect(await monitor.ready()).toBe(false);
    expect(changes).toEqual([
      { ready: true, reason: 'all up' },
      { ready: false, reason: 'db down' },
      { ready: true, reason: 'all up' },
      { ready: false, reason: 'shutting down' },
    ]);
    expect((await monitor.report()).shuttingDown).toBe(true);
  });

  it('polls readiness on an unref-ed timer until stopped', async () => {
    let runs = 0;
    const monitor = createHealthMonitor({ serviceName: 'auth', cacheTtlMs: 0 }).register({
      name: 'db',
      check: () => {
        runs++;
        return true;
      },
    });
    const stop = monitor.poll(1_000);
    await vi.advanceTimersByTimeAsync(3_000);
    expect(runs).toBe(3);
    stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(runs).toBe(3);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('refuses bad options and bad or duplicate checks, naming the field', () => {
    const attempt = (fn: () => unknown): string => {
      try {
        fn();
      } catch (error) {
        if (isServiceError(error) && error.code === 'BAD_REQUEST') return error.message;
        throw error;
      }
      throw new Error('did not throw');
    };
    expect(attempt(() => createHealthMonitor({ serviceName: '' }))).toMatch(/serviceName/);
    expect(attempt(() => createHealthMonitor({ serviceName: 'a', cacheTtlMs: -1 }))).toMatch(/cacheTtlMs/);
    const monitor = createHealthMonitor({ serviceName: 'a' });
    expect(attempt(() => monitor.register({ name: 'x', check: 'nope' as never }))).toMatch(/check/);
    expect(
      attempt(() => monitor.register({ name: 'x', kind: 'startup' as never, check: () => true })),
    ).toMatch(/kind/);
    monitor.register({ name: 'x', check: () => true });
    expect(attempt(() => monitor.register({ name: 'x', check: () => true }))).toMatch(/already registered/);
  });
});
