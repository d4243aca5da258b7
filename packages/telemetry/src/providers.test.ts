// Without a registered SDK nothing is recorded and nothing subscribes: the instrumented call
// path is the uninstrumented one.
import { ServiceCommunicationManager } from '@clone/grpc-proto';
import { describe, expect, it } from 'vitest';
import { testMeters, testTracing } from '../test/sdk';
import { traceCommunication } from './call-tracing';
import { instrumentCommunication } from './communication-metrics';
import { resolveMeter, resolveTracer } from './providers';

describe('without an SDK', () => {
  it('resolves no meter and no tracer from the global no-op providers', () => {
    expect(resolveMeter({})).toBeUndefined();
    expect(resolveTracer({})).toBeUndefined();
  });

  it('resolves the given SDK providers', async () => {
    const m = testMeters();
    const t = testTracing();
    expect(resolveMeter({ meterProvider: m.meterProvider })).toBeDefined();
    expect(resolveTracer({ tracerProvider: t.tracerProvider })).toBeDefined();
    await m.close();
    await t.close();
  });

  it('adds no listener to the manager, so it does not even time its calls', async () => {
    const comm = new ServiceCommunicationManager({
      serviceId: 'c-1',
      serviceName: 'c',
      jwtSecret: 'telemetry-test-secret-0123456789-abcdefghijklmnop',
    });
    const subscribed: string[] = [];
    const spy = {
      on: (event: string, fn: never) => {
        subscribed.push(event);
        return comm.on(event as never, fn);
      },
      getCircuitStats: () => comm.getCircuitStats(),
    };
    instrumentCommunication(spy as never)();
    expect(traceCommunication(spy as never).startCall('asr')).toBeUndefined();
    expect(subscribed).toEqual([]);
    await comm.close();
  });
});
