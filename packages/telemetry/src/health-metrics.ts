import type { Attributes } from '@opentelemetry/api';
import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A, DURATION_BUCKETS_MS, MetricNames as M } from './metric-names';
import { resolveMeter } from './providers';

/** The events of a `HealthMonitor` (`@clone/health`) this reads, by shape. */
export interface HealthEvents {
  check: { name: string; status: 'up' | 'down'; durationMs: number; kind: string };
  readiness: { ready: boolean; reason: string };
}

/**
 * Records every health check run (not cache hits) by check and status with its duration,
 * and readiness as a gauge (1 ready, 0 not), starting from `initiallyReady` (default true).
 */
export function instrumentHealthMonitor(
  source: EventSource<HealthEvents>,
  options?: InstrumentationOptions & { initiallyReady?: boolean },
): () => void {
  const { initiallyReady, ...rest } = options ?? {};
  const meter = resolveMeter(parseInstrumentationOptions(rest, 'instrumentHealthMonitor'));
  if (meter === undefined) return () => {};
  const checks = meter.createCounter(M.healthChecks, { description: 'Health check runs' });
  const duration = meter.createHistogram(M.healthCheckDuration, {
    unit: 'ms',
    description: 'Health check run time',
    advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS },
  });
  const ready = meter.createObservableGauge(M.healthReady, { description: '1 when ready, 0 when not' });
  let isReady = initiallyReady ?? true;
  const observe = (result: { observe(value: number, attributes?: Attributes): void }): void =>
    result.observe(isReady ? 1 : 0);
  ready.addCallback(observe);
  return unsubscribeAll([
    source.on('check', (e) => {
      const attributes = { [A.healthCheck]: e.name, [A.healthStatus]: e.status };
      checks.add(1, attributes);
      duration.record(e.durationMs, attributes);
    }),
    source.on('readiness', (e) => {
      isReady = e.ready;
    }),
    () => ready.removeCallback(observe),
  ]);
}
