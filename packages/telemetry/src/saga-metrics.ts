import type { Attributes } from '@opentelemetry/api';
import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A, DURATION_BUCKETS_MS, MetricNames as M } from './metric-names';
import { resolveMeter } from './providers';

/**
 * The events of a `SagaOrchestrator` or a `SagaMonitor` (`@clone/saga`: its `createSaga`
 * sagas) the saga metrics and spans read, by shape. A builder step may have no service.
 */
export interface SagaEvents {
  'saga:started': { sagaId: string; type: string };
  'saga:completed': { sagaId: string; type: string; durationMs: number };
  'saga:compensated': { sagaId: string; type: string; durationMs: number };
  'saga:failed': { sagaId: string; type: string };
  'saga:cancelled': { sagaId: string; type: string; reason: string };
  'step:started': {
    sagaId: string;
    stepId: string;
    service: string | undefined;
    action: string;
    execution: number;
  };
  'step:retrying': { sagaId: string; stepId: string; attempt: number };
  'step:completed': { sagaId: string; stepId: string; durationMs: number };
  'step:failed': { sagaId: string; stepId: string; error: { code: string; message: string } };
  'compensation:started': { sagaId: string; stepId: string; action: string };
  'compensation:completed': { sagaId: string; stepId: string };
  'compensation:failed': { sagaId: string; stepId: string; error: { code: string; message: string } };
}

/**
 * Records sagas started and ended by type and outcome (completed, compensated, failed,
 * cancelled: the success and failure rates), saga and step durations, and step retries.
 * A failed step's duration is measured from its `step:started` with `performance.now()`, as
 * the orchestrator reports it only for completed steps.
 */
export function instrumentSagaOrchestrator(
  source: EventSource<SagaEvents>,
  options?: InstrumentationOptions,
): () => void {
  const meter = resolveMeter(parseInstrumentationOptions(options, 'instrumentSagaOrchestrator'));
  if (meter === undefined) return () => {};
  const started = meter.createCounter(M.sagaStarted, { description: 'Sagas started' });
  const ended = meter.createCounter(M.sagaEnded, { description: 'Sagas ended, by outcome' });
  const histogram = { unit: 'ms', advice: { explicitBucketBoundaries: DURATION_BUCKETS_MS } };
  const duration = meter.createHistogram(M.sagaDuration, { ...histogram, description: 'Saga run time' });
  const stepDuration = meter.createHistogram(M.sagaStepDuration, {
    ...histogram,
    description: 'Step run time',
  });
  const stepRetries = meter.createCounter(M.sagaStepRetries, { description: 'Step retries' });
  const stepStarts = new Map<string, number>();
  const end = (type: string, outcome: string, ms: number | undefined): void => {
    const attributes: Attributes = { [A.sagaType]: type, [A.sagaOutcome]: outcome };
    ended.add(1, attributes);
    if (ms !== undefined) duration.record(ms, attributes);
  };
  const stepKey = (e: { sagaId: string; stepId: string }): string => `${e.sagaId}\0${e.stepId}`;
  return unsubscribeAll([
    source.on('saga:started', (e) => started.add(1, { [A.sagaType]: e.type })),
    source.on('saga:completed', (e) => end(e.type, 'completed', e.durationMs)),
    source.on('saga:compensated', (e) => end(e.type, 'compensated', e.durationMs)),
    source.on('saga:failed', (e) => end(e.type, 'failed', undefined)),
    source.on('saga:cancelled', (e) => end(e.type, 'cancelled', undefined)),
    source.on('step:started', (e) => stepStarts.set(stepKey(e), performance.now())),
    source.on('step:retrying', (e) => stepRetries.add(1, { [A.sagaStep]: e.stepId })),
    source.on('step:completed', (e) => {
      stepStarts.delete(stepKey(e));
      stepDuration.record(e.durationMs, { [A.sagaStep]: e.stepId, [A.sagaOutcome]: 'completed' });
    }),
    source.on('step:failed', (e) => {
      const key = stepKey(e);
      const start = stepStarts.get(key);
      stepStarts.delete(key);
      if (start !== undefined)
        stepDuration.record(performance.now() - start, {
          [A.sagaStep]: e.stepId,
          [A.sagaOutcome]: 'failed',
          [A.errorType]: e.error.code,
        });
    }),
  ]);
}
