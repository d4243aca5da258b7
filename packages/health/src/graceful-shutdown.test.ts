import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { isServiceError } from '@clone/service-errors';
import { waitFor } from '@clone/test-servers';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gracefulShutdown } from './graceful-shutdown';
import { createHealthMonitor } from './health-monitor';

describe('gracefulShutdown, in process', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails readiness first, waits shutdownDelayMs, then drains, once', async () => {
    const steps: string[] = [];
    const monitor = createHealthMonitor({ serviceName: 'svc' });
    monitor.on('readiness', ({ ready }) => steps.push(`ready=${ready}`));
    const handle = gracefulShutdown({
      monitor,
      shutdownDelayMs: 1_000,
      drain: async () => {
        steps.push('drain');
      },
      signals: [],
    });
    const done = handle.shutdown();
    expect(handle.shutdown()).toBe(done);
    expect(steps).toEqual(['ready=false']);
    await vi.advanceTimersByTimeAsync(999);
    expect(steps).toEqual(['ready=false']);
    await vi.advanceTimersByTimeAsync(1);
    await done;
    expect(steps).toEqual(['ready=false', 'drain']);
  });

  it('gives up on a drain that never ends after drainTimeoutMs', async () => {
    const warnings: string[] = [];
    const handle = gracefulShutdown({
      monitor: createHealthMonitor({ serviceName: 'svc' }),
      shutdownDelayMs: 0,
      drainTimeoutMs: 2_000,
      drain: () => new Promise(() => {}),
      signals: [],
      logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} },
    });
    const done = handle.shutdown();
    await vi.advanceTimersByTimeAsync(2_000);
    await done;
    expect(warnings).toEqual(['shutdown: drain timed out']);
  });

  it('adds and removes its signal listeners', () => {
    const before = process.listenerCount('SIGTERM');
    const handle = gracefulShutdown({
      monitor: createHealthMonitor({ serviceName: 'svc' }),
      drain: () => {},
    });
    expect(process.listenerCount('SIGTERM')).toBe(before + 1);
    handle.dispose();
    expect(process.listenerCount('SIGTERM')).toBe(before);
  });

  it('refuses a missing drain, naming it', () => {
    try {
      gracefulShutdown({ monitor: createHealthMonitor({ serviceName: 'svc' }) } as never);
      expect.unreachable();
    } catch (error) {
      expect(isServiceError(error) && error.message).toMatch(/drain/);
    }
  });
});

describe('gracefulShutdown, a real process on SIGTERM', () => {
  it('answers not-ready while still serving, finishes the request in flight, then exits by itself', async () => {
    const fixture = fileURLToPath(new URL('../test/shutdown-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--conditions=@clone/source', '--import', 'tsx', fixture], {
      cwd: fileURLToPath(new URL('../../..', import.meta.url)),
      env: { ...process.env, SHUTDOWN_DELAY_MS: '600', WORK_MS: '300' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const lines: Record<string, unknown>[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => lines.push(JSON.parse(line)));
    const exited = new Promise<NodeJS.Signals | number | null>((resolve) =>
      child.once('exit', (code, signal) => resolve(signal ?? code)),
    );
    try {
      await waitFor(async () => lines.some((l) => 'port' in l), 20_000, 'the child to listen');
      const base = `http://127.0.0.1:${lines.find((l) => 'port' in l)!.port}`;
      expect((await fetch(`${base}/health/ready`)).status).toBe(200);

      child.kill('SIGTERM');
      await waitFor(
        async () => (await fetch(`${base}/health/ready`)).status === 503,
        5_000,
        'readiness to fail',
      );
      // Still serving during the delay: routers that have not seen the failed probe lose nothing.
      const inFlight = fetch(`${base}/work`).then((res) => res.text());
      expect((await fetch(`${base}/health/live`)).status).toBe(200);
      expect(await inFlight).toBe('done');

      expect(await exited).toBe('SIGTERM');
      const logs = lines.map((l) => l.log).filter(Boolean);
      expect(logs).toEqual([
        'service ready',
        'service not ready',
        'shutdown: readiness failed, waiting before draining',
        'shutdown: draining',
        'shutdown: drained',
      ]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});
