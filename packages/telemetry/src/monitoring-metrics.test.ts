// The resilience metrics of the other packages, each recorded from the real package through
// the real SDK: authentication failures, discovery health check results, health checks, saga
// outcomes and step durations, event bus counts.
import { createEventBus, EventBuilder } from '@clone/event-bus';
import { createHealthMonitor, HealthChecks } from '@clone/health';
import { SagaOrchestrator } from '@clone/saga';
import { ServiceAuthManager } from '@clone/service-auth';
import { ServiceRegistry } from '@clone/service-discovery';
import { afterEach, describe, expect, it } from 'vitest';
import { testMeters } from '../test/sdk';
import { instrumentServiceAuth } from './auth-metrics';
import { instrumentServiceRegistry } from './discovery-metrics';
import { instrumentEventBus } from './event-bus-metrics';
import { instrumentHealthMonitor } from './health-metrics';
import { MetricNames as M } from './metric-names';
import { instrumentSagaOrchestrator } from './saga-metrics';

const SECRET = 'telemetry-test-secret-0123456789-abcdefghijklmnop';
const cleanup: Array<() => Promise<unknown> | unknown> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});
function meters() {
  const m = testMeters();
  cleanup.push(() => m.close());
  return m;
}
async function until(check: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('authentication failures', () => {
  it('are counted by reason, with the claimed caller', async () => {
    const m = meters();
    const auth = new ServiceAuthManager({ jwtSecret: SECRET });
    cleanup.push(instrumentServiceAuth(auth, { meterProvider: m.meterProvider }));
    const other = new ServiceAuthManager({ jwtSecret: `${SECRET}-other` });
    const forged = other.generateServiceToken('ws-1', 'ws', []);
    expect(() => auth.verifyServiceToken(forged)).toThrow();
    expect(() => auth.verifyServiceToken('not-a-jwt')).toThrow();
    auth.verifyServiceToken(auth.generateServiceToken('ws-1', 'ws', []));
    expect(
      await m.value(M.authFailures, { 'clone.auth.reason': 'bad_signature', 'clone.auth.caller': 'ws' }),
    ).toBe(1);
    expect(await m.value(M.authFailures, { 'clone.auth.reason': 'malformed' })).toBe(1);
    expect(await m.value(M.authFailures)).toBe(2);
    expect(await m.value(M.authTokensIssued)).toBe(1);
  });
});

describe('service discovery health check results', () => {
  it('count checks and health changes, time the checks, and gauge instances by health status', async () => {
    const m = meters();
    const registry = new ServiceRegistry({ healthCheckIntervalMs: 20, unhealthyThreshold: 1 } as never);
    cleanup.push(() => registry.close());
    cleanup.push(instrumentServiceRegistry(registry, { meterProvider: m.meterProvider }));
    // Nothing listens on port 1: the checks fail and the instance turns unhealthy.
    registry.register({
      serviceId: 'tts-1',
      serviceName: 'tts',
      host: '127.0.0.1',
      port: 1,
      protocol: 'grpc',
    });
    expect(
      await m.value(M.discoveryRegistrations, {
        'rpc.service': 'tts',
        'clone.discovery.change': 'registered',
      }),
    ).toBe(1);
    registry.startHealthChecks();
    await until(
      async () =>
        (await m.value(M.discoveryHealthChanges, {
          'rpc.service': 'tts',
          'clone.health.status': 'unhealthy',
        })) === 1,
      'unhealthy',
    );
    expect(
      await m.value(M.discoveryInstances, { 'rpc.service': 'tts', 'clone.health.status': 'unhealthy' }),
    ).toBe(1);
    // Every check is counted and timed, not only the one that changed the health.
    await until(
      async () =>
        ((await m.value(M.discoveryHealthChecks, {
          'rpc.service': 'tts',
          'clone.health.status': 'unhealthy',
        })) ?? 0) >= 2,
      'a second check',
    );
    expect(
      await m.value(M.discoveryHealthCheckDuration, {
        'rpc.service': 'tts',
        'clone.health.status': 'unhealthy',
      }),
    ).toBeGreaterThanOrEqual(2);
  });
});

describe('health checks', () => {
  it('are counted by check and status, with durations and the readiness gauge', async () => {
    const m = meters();
    let up = true;
    const monitor = createHealthMonitor({ serviceName: 's', cacheTtlMs: 0 } as never);
    monitor.register(HealthChecks.database('postgres', () => up));
    cleanup.push(instrumentHealthMonitor(monitor, { meterProvider: m.meterProvider }));
    expect(await monitor.ready()).toBe(true);
    up = false;
    expect(await monitor.ready()).toBe(false);
    expect(
      await m.value(M.healthChecks, { 'clone.health.check': 'postgres', 'clone.health.status': 'up' }),
    ).toBe(1);
    expect(
      await m.value(M.healthChecks, { 'clone.health.check': 'postgres', 'clone.health.status': 'down' }),
    ).toBe(1);
    expect(await m.value(M.healthCheckDuration, { 'clone.health.check': 'postgres' })).toBe(2);
    expect(await m.value(M.healthReady)).toBe(0);
  });
});

describe('saga success and failure rates', () => {
  it('count sagas by outcome and record step durations', async () => {
    const m = meters();
    const o = new SagaOrchestrator();
    cleanup.push(() => o.close({ drainTimeoutMs: 0 }));
    cleanup.push(instrumentSagaOrchestrator(o, { meterProvider: m.meterProvider }));
    o.registerStepHandler('reserve', () => ({ ok: true }));
    o.registerStepHandler('charge', (_s, ctx: { fail: boolean }) => {
      if (ctx.fail) throw new Error('card declined');
      return { ok: true };
    });
    o.registerCompensationHandler('release', () => undefined);
    const steps = [
      { id: 'reserve', name: 'reserve', service: 'stock', action: 'reserve', compensationAction: 'release' },
      {
        id: 'charge',
        name: 'charge',
        service: 'pay',
        action: 'charge',
        dependencies: ['reserve'],
        retryAttempts: 0,
      },
    ];
    await o.waitForSaga(await o.startSaga('order', steps, { fail: false }));
    await o.waitForSaga(await o.startSaga('order', steps, { fail: true }));
    expect(await m.value(M.sagaStarted, { 'clone.saga.type': 'order' })).toBe(2);
    expect(
      await m.value(M.sagaEnded, { 'clone.saga.type': 'order', 'clone.saga.outcome': 'completed' }),
    ).toBe(1);
    expect(
      await m.value(M.sagaEnded, { 'clone.saga.type': 'order', 'clone.saga.outcome': 'compensated' }),
    ).toBe(1);
    expect(await m.value(M.sagaDuration, { 'clone.saga.outcome': 'completed' })).toBe(1);
    expect(
      await m.value(M.sagaStepDuration, { 'clone.saga.step': 'reserve', 'clone.saga.outcome': 'completed' }),
    ).toBe(2);
    expect(
      await m.value(M.sagaStepDuration, { 'clone.saga.step': 'charge', 'clone.saga.outcome': 'failed' }),
    ).toBe(1);
  });
});

describe('event bus counts', () => {
  it('read published, handled, failed and retried events from the bus', async () => {
    const m = meters();
    const bus = createEventBus({ serviceName: 'svc' });
    cleanup.push(() => bus.close());
    cleanup.push(instrumentEventBus(bus, { meterProvider: m.meterProvider, name: 'main' }));
    let calls = 0;
    await bus.subscribe(
      'order.created',
      () => {
        if (++calls === 1) throw new Error('first try fails');
      },
      { retryAttempts: 2, retryDelayMs: 1 } as never,
    );
    await bus.publish(EventBuilder.create('order.created', { data: {} }, 'svc'));
    await until(() => calls === 2, 'the retry');
    await until(
      async () => (await m.value(M.eventsHandled, { 'clone.events.bus': 'main' })) === 2,
      'handled',
    );
    expect(await m.value(M.eventsPublished, { 'clone.events.bus': 'main' })).toBe(1);
    expect(await m.value(M.eventsFailed)).toBe(1);
    expect(await m.value(M.eventsRetried)).toBe(1);
    expect(await m.value(M.eventsDeadLettered)).toBe(0);
  });
});
