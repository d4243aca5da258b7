import type { Attributes } from '@opentelemetry/api';
import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A, DURATION_BUCKETS_MS, MetricNames as M } from './metric-names';
import { resolveMeter } from './providers';

interface Instance {
  serviceId: string;
  serviceName: string;
}

/** The events of a `ServiceRegistry` (`@clone/service-discovery`) this reads, by shape. */
export interface RegistryEvents {
  registered: { instance: Instance; local: boolean };
  deregistered: { instance: Instance; local: boolean };
  healthChanged: { instance: Instance; previous: string; current: string };
  healthChecked: { instance: Instance; healthy: boolean; durationMs: number };
}

/** What {@link instrumentServiceRegistry} needs of a `ServiceRegistry`. */
export interface RegistrySource extends EventSource<RegistryEvents> {
  getServiceNames(): string[];
  getInstances(serviceName: string): readonly Instance[];
  getHealth(serviceId: string): string | undefined;
}

/**
 * Records what the registry's health checks find: every check by service and result
 * (`healthy` / `unhealthy`) with its duration, instances per service and health status (gauge,
 * read at collection), each health transition, and registrations / deregistrations.
 */
export function instrumentServiceRegistry(
  source: RegistrySource,
  options?: InstrumentationOptions,
): () => void {
  const meter = resolveMeter(parseInstrumentationOptions(options, 'instrumentServiceRegistry'));
  if (meter === undefined) return () => {};
  const changes = meter.createCounter(M.discoveryHealthChanges, { description: 'Instance health changes' });
  const checks = meter.createCounter(M.discoveryHealthChecks, { description: 'Instance health checks run' });
  const checkDuration = meter.createHistogram(M.discoveryHealthCheckDuration, {
    unit: 'ms',
    description: 'Instance health check run time',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
  });
  const registrations = meter.createCounter(M.discoveryRegistrations, {
    description: 'Instances registered and deregistered',
  });
  const instances = meter.createObservableGauge(M.discoveryInstances, {
    description: 'Registered instances by health status',
  });
  const observe = (result: { observe(value: number, attributes: Attributes): void }): void => {
    for (const service of source.getServiceNames()) {
      const byStatus = new Map<string, number>();
      for (const instance of source.getInstances(service)) {
        const status = source.getHealth(instance.serviceId) ?? 'unknown';
        byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
      }
      for (const [status, count] of byStatus)
        result.observe(count, { [A.rpcService]: service, [A.healthStatus]: status });
    }
  };
  instances.addCallback(observe);
  return unsubscribeAll([
    source.on('healthChecked', (e) => {
      const attributes = {
        [A.rpcService]: e.instance.serviceName,
        [A.healthStatus]: e.healthy ? 'healthy' : 'unhealthy',
      };
      checks.add(1, attributes);
      checkDuration.record(e.durationMs, attributes);
    }),
    source.on('healthChanged', (e) =>
      changes.add(1, { [A.rpcService]: e.instance.serviceName, [A.healthStatus]: e.current }),
    ),
    source.on('registered', (e) =>
      registrations.add(1, { [A.rpcService]: e.instance.serviceName, [A.discoveryChange]: 'registered' }),
    ),
    source.on('deregistered', (e) =>
      registrations.add(1, { [A.rpcService]: e.instance.serviceName, [A.discoveryChange]: 'deregistered' }),
    ),
    () => instances.removeCallback(observe),
  ]);
}
