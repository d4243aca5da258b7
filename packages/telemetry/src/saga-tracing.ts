import { type Context, context, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  type EventSource,
  type InstrumentationOptions,
  parseInstrumentationOptions,
  unsubscribeAll,
} from './instrumentation-options';
import { AttributeKeys as A } from './metric-names';
import { resolveTracer } from './providers';
import type { SagaEvents } from './saga-metrics';

/** The spans of sagas and their steps; see {@link traceSagaOrchestrator}. */
export interface SagaTracing {
  /**
   * Runs `fn` in the context of the step's span, so the calls it makes are the step's
   * children: what the orchestrator calls around each step action (or a handler itself).
   * Without a span for that step it just runs `fn`.
   */
  withStep<T>(sagaId: string, stepId: string, fn: () => T): T;
  /** Stops listening; spans still open are ended with an error status. */
  stop(): void;
}

/**
 * A span per saga (`saga <type>`, a child of the context that started it) and per step
 * execution and compensation (children of the saga's), built from the orchestrator's events.
 * Outcomes become span status; retries and compensation start are span events.
 */
export function traceSagaOrchestrator(
  source: EventSource<SagaEvents>,
  options?: InstrumentationOptions,
): SagaTracing {
  const tracer = resolveTracer(parseInstrumentationOptions(options, 'traceSagaOrchestrator'));
  if (tracer === undefined) return { withStep: (_s, _t, fn) => fn(), stop() {} };
  const sagas = new Map<string, { span: Span; context: Context }>();
  const steps = new Map<string, { span: Span; context: Context }>();
  const key = (sagaId: string, stepId: string): string => `${sagaId}\0${stepId}`;
  const endSaga = (sagaId: string, ok: boolean, message = ''): void => {
    const saga = sagas.get(sagaId);
    if (saga === undefined) return;
    sagas.delete(sagaId);
    saga.span.setStatus(ok ? { code: SpanStatusCode.OK } : { code: SpanStatusCode.ERROR, message });
    saga.span.end();
  };
  const startChild = (
    sagaId: string,
    stepId: string,
    name: string,
    attributes: Record<string, string>,
  ): void => {
    const parent = sagas.get(sagaId)?.context ?? context.active();
    const span = tracer.startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent);
    steps.set(key(sagaId, stepId), { span, context: trace.setSpan(parent, span) });
  };
  const endChild = (sagaId: string, stepId: string, error?: { code: string; message: string }): void => {
    const k = key(sagaId, stepId);
    const step = steps.get(k);
    if (step === undefined) return;
    steps.delete(k);
    if (error === undefined) step.span.setStatus({ code: SpanStatusCode.OK });
    else {
      step.span.setAttribute(A.errorType, error.code);
      step.span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
    }
    step.span.end();
  };
  const offs = [
    source.on('saga:started', (e) => {
      const parent = context.active();
      const span = tracer.startSpan(
        `saga ${e.type}`,
        { attributes: { [A.sagaType]: e.type, 'clone.saga.id': e.sagaId } },
        parent,
      );
      sagas.set(e.sagaId, { span, context: trace.setSpan(parent, span) });
    }),
    source.on('saga:completed', (e) => endSaga(e.sagaId, true)),
    source.on('saga:compensated', (e) => endSaga(e.sagaId, false, 'compensated')),
    source.on('saga:failed', (e) => endSaga(e.sagaId, false, 'failed')),
    source.on('saga:cancelled', (e) => endSaga(e.sagaId, false, `cancelled: ${e.reason}`)),
    source.on('step:started', (e) =>
      startChild(e.sagaId, e.stepId, `step ${e.stepId}`, {
        [A.sagaStep]: e.stepId,
        [A.rpcService]: e.service,
        'clone.saga.action': e.action,
      }),
    ),
    source.on('step:retrying', (e) =>
      steps.get(key(e.sagaId, e.stepId))?.span.addEvent('retry', { 'clone.attempt': e.attempt }),
    ),
    source.on('step:completed', (e) => endChild(e.sagaId, e.stepId)),
    source.on('step:failed', (e) => endChild(e.sagaId, e.stepId, e.error)),
    source.on('compensation:started', (e) =>
      startChild(e.sagaId, `${e.stepId}#compensation`, `compensate ${e.stepId}`, { [A.sagaStep]: e.stepId }),
    ),
    source.on('compensation:completed', (e) => endChild(e.sagaId, `${e.stepId}#compensation`)),
    source.on('compensation:failed', (e) => endChild(e.sagaId, `${e.stepId}#compensation`, e.error)),
  ];
  const stopListening = unsubscribeAll(offs);
  return {
    withStep(sagaId, stepId, fn) {
      const step = steps.get(key(sagaId, stepId));
      return step === undefined ? fn() : context.with(step.context, fn);
    },
    stop() {
      stopListening();
      for (const open of [...steps.values(), ...sagas.values()]) {
        open.span.setStatus({ code: SpanStatusCode.ERROR, message: 'instrumentation stopped' });
        open.span.end();
      }
      steps.clear();
      sagas.clear();
    },
  };
}
