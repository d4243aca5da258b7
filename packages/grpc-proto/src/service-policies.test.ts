import { MAX_TIMER_MS } from '@clone/internal';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { describe, expect, it } from 'vitest';
import { testManager, useCleanups } from './test-support/fixtures';

const defer = useCleanups();
const manager = (extra: Parameters<typeof testManager>[1] = {}) =>
  testManager(defer, { serviceId: 'ws-1', serviceName: 'ws', ...extra });

function rejection(fn: () => unknown): ServiceError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST });
    return error as ServiceError;
  }
  throw new Error('expected a BAD_REQUEST');
}

describe('per-service policies and their settings', () => {
  it('refuses durations a timer cannot hold, naming the field', () => {
    const tooLong = MAX_TIMER_MS + 1;
    expect(rejection(() => manager({ healthCheckIntervalMs: tooLong })).message).toMatch(
      /healthCheckIntervalMs/,
    );
    expect(rejection(() => manager({ circuitBreaker: { timeout: tooLong } })).message).toMatch(
      /circuitBreaker\.timeout/,
    );
    expect(rejection(() => manager({ circuitBreaker: { timeout: 0 } })).message).toMatch(
      /circuitBreaker\.timeout/,
    );
    expect(
      rejection(() => manager({ services: { asr: { circuitBreaker: { timeout: tooLong } } } })).message,
    ).toMatch(/services\.asr\.circuitBreaker\.timeout/);
    expect(rejection(() => manager({ client: { defaultDeadlineMs: tooLong } })).message).toMatch(
      /defaultDeadlineMs/,
    );
    expect(rejection(() => manager({ client: { keepalive: { timeMs: tooLong } } })).message).toMatch(
      /timeMs/,
    );
    // Token lifetimes are seconds: bounded so that their ms still fit a timer, and whole.
    for (const tokenExpirySeconds of [0, 1.5, -1, Math.ceil(tooLong / 1000) + 1]) {
      expect(rejection(() => manager({ tokenExpirySeconds })).message).toMatch(/tokenExpirySeconds/);
    }
    const m = manager();
    const before = m.getCircuitBreaker('asr');
    expect(
      rejection(() => m.configureService('asr', { circuitBreaker: { timeout: tooLong } })).message,
    ).toMatch(/circuitBreaker\.timeout/);
    // Nothing half-done: the service keeps its policies.
    expect(m.getCircuitBreaker('asr')).toBe(before);
  });

  it('refuses ports outside 1-65535 in the services config and createClient', () => {
    for (const endpoint of [
      { host: '127.0.0.1', port: 70_000 },
      { host: '127.0.0.1', port: -1 },
      'host:99999',
    ]) {
      expect(rejection(() => manager({ services: { asr: { endpoint } } })).message).toMatch(
        /services\.asr\.endpoint/,
      );
    }
    const m = manager();
    for (const endpoint of [
      { host: '127.0.0.1', port: 70_000 },
      { host: '127.0.0.1', port: -1 },
      'host:99999',
    ]) {
      expect(rejection(() => m.createASRClient(endpoint)).metadata).toMatchObject({ field: 'endpoint' });
    }
  });

  it('refuses __proto__ as a service name in the config by name; any name works at run time', async () => {
    const services = JSON.parse('{"__proto__":{"retry":{"maxAttempts":1}}}');
    expect(rejection(() => manager({ services })).message).toMatch(/__proto__.*reserved name/);
    for (const name of ['constructor', 'prototype']) {
      const error = rejection(() => manager({ services: { [name]: { retry: { maxAttempts: 1 } } } }));
      expect(error.message).toMatch(new RegExp(`${name}.*reserved name`));
    }
    const m = manager();
    await expect(m.executeServiceCall('__proto__', () => 'ok')).resolves.toBe('ok');
    m.configureService('constructor', { retry: { maxAttempts: 1 } });
    await expect(m.executeServiceCall('constructor', () => 'ok')).resolves.toBe('ok');
    const stats = m.getCircuitStats();
    expect(Object.keys(stats).sort()).toEqual(['__proto__', 'constructor']);
  });

  it('turns a throwing shouldRetry into a ServiceError with the thrown value as cause', async () => {
    const bug = new Error('predicate bug');
    const m = manager({
      retry: {
        maxAttempts: 3,
        shouldRetry: () => {
          throw bug;
        },
      },
    });
    let attempts = 0;
    const error = await m
      .executeServiceCall('asr', () => {
        attempts++;
        throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'asr', { retryable: true });
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(attempts).toBe(1);
    // The predicate's error is kept as the cause (directly or one level down).
    const causes = [
      (error as ServiceError).cause,
      ((error as ServiceError).cause as ServiceError | undefined)?.cause,
    ];
    expect(causes).toContain(bug);
  });

  it('times out work that makes no gRPC call through the composed Timeout, naming the service', async () => {
    const m = manager({ circuitBreaker: { timeout: 20 }, retry: { maxAttempts: 1 } });
    const timeouts: number[] = [];
    m.on('callFailed', (e) => timeouts.push(e.attempts));
    await expect(m.executeServiceCall('rag', () => new Promise(() => {}))).rejects.toMatchObject({
      code: ServiceErrorCode.TIMEOUT,
      message: 'Call to rag timed out after 20 ms',
      service: 'rag',
    });
    expect(m.getCircuitBreaker('rag').getStats().failureCount).toBe(1);
    expect(timeouts).toEqual([1]);
  });
});
