import { Bulkhead, CircuitBreaker, RetryPolicy, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { testMeters } from '../test/sdk';
import { MetricNames as M } from './metric-names';
import { instrumentBulkhead, instrumentCircuitBreaker, instrumentRetryPolicy } from './policy-metrics';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});
function meters() {
  const m = testMeters();
  cleanup.push(() => m.close());
  return m;
}
const fail = (): never => {
  throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down');
};

describe('instrumentCircuitBreaker', () => {
  it('records the state gauge, transitions and rejections under the given name', async () => {
    const m = meters();
    const breaker = new CircuitBreaker({ failureThreshold: 1, resetTimeoutMs: 60_000 });
    cleanup.push(instrumentCircuitBreaker(breaker, { meterProvider: m.meterProvider, name: 'billing' }));
    expect(await m.value(M.circuitState, { 'rpc.service': 'billing' })).toBe(0);
    await expect(breaker.execute(fail)).rejects.toThrow('down');
    await expect(breaker.execute(fail)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(await m.value(M.circuitState, { 'rpc.service': 'billing' })).toBe(2);
    expect(await m.value(M.circuitTransitions, { 'clone.circuit.to': 'OPEN' })).toBe(1);
    expect(await m.value(M.circuitRejections, { 'rpc.service': 'billing' })).toBe(1);
  });
});

describe('instrumentRetryPolicy', () => {
  it('counts retries by error and give-ups by reason', async () => {
    const m = meters();
    const retry = new RetryPolicy({ maxAttempts: 3, initialDelayMs: 0, jitter: 'none' } as never);
    cleanup.push(instrumentRetryPolicy(retry, { meterProvider: m.meterProvider, name: 'billing' }));
    await expect(retry.execute(fail)).rejects.toThrow();
    expect(
      await m.value(M.retryAttempts, { 'rpc.service': 'billing', 'error.type': 'SERVICE_UNAVAILABLE' }),
    ).toBe(2);
    expect(await m.value(M.retryGiveUps, { 'clone.retry.reason': 'attempts-exhausted' })).toBe(1);
  });
});

describe('instrumentBulkhead', () => {
  it('gauges running and queued calls and counts rejections', async () => {
    const m = meters();
    const bulkhead = new Bulkhead({ maxConcurrent: 1, maxQueue: 1 });
    cleanup.push(instrumentBulkhead(bulkhead, { meterProvider: m.meterProvider, name: 'pdf' }));
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const running = bulkhead.execute(() => gate);
    const queued = bulkhead.execute(async () => 1);
    await expect(bulkhead.execute(async () => 1)).rejects.toMatchObject({ code: 'BULKHEAD_FULL' });
    expect(await m.value(M.bulkheadActive, { 'clone.bulkhead': 'pdf' })).toBe(1);
    expect(await m.value(M.bulkheadQueued, { 'clone.bulkhead': 'pdf' })).toBe(1);
    expect(await m.value(M.bulkheadRejections, { 'clone.bulkhead': 'pdf' })).toBe(1);
    release();
    await Promise.all([running, queued]);
    expect(await m.value(M.bulkheadQueued, { 'clone.bulkhead': 'pdf' })).toBe(0);
  });
});
