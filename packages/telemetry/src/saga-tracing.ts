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

/** Which step attempt a {@link SagaStepContext} wraps (`@clone/saga`'s `StepAttempt`, by shape). */
export interface SagaStepAttempt {
  sagaId: string;
  stepId: string;
}

/**
 * The hook an orchestrator runs each step and compensation attempt inside
 * (`@clone/saga`'s `StepContextHook`, by shape: this package does not depend on the saga's).
 */
export interface SagaStepContext {
  runStep<T>(attempt: SagaStepAttempt, fn: () => T): T;
  runCompensation<T>(attempt: SagaStepAttempt, fn: () => T): T;
}

/** What {@link traceSagaOrchestrator} needs of a `SagaOrchestrator`. */
export interface TracedSagaSource extends EventSource<SagaEvents> {
  /** Installs the per-attempt hook (an orchestrator that has it); returns its removal. */
  useStepContext?(hook: SagaStepContext): () => void;
}

/** The spans of sagas and their steps; see {@link traceSagaOrchestrator}. */
export interface SagaTracing {
  /**
   * Runs `fn` in the context of the step's span, so the calls it makes are the step's
   * children. An orchestrator with `useStepContext` already runs every handler so; this is
   * for a source without it. `<stepId>#compensation` names a step's compensation span.
   * Without a span for that step it just runs `fn`.
   */
  withStep<T>(sagaId: string, stepId: string, fn: () => T): T;
  /** Stops listening; spans still open are ended with an error status. */
  stop(): void;
}

/**
 * A span per saga (`saga <type>`, a child of the context that started it) and per step
 * execution and compensation (children of the saga's), built from the orchestrator's events.
 * Outcomes become span status; retries are span events. An orchestrator with `useStepContext`
 * gets a hook installed that runs every step attempt inside its step's span and every
 * compensation attempt inside its compensation's span, so the calls handlers make are their
 * children without the handlers knowing; `stop()` removes it.
 */
export function traceSagaOrchestrator(
  source: TracedSagaSource,
  options?: InstrumentationOptions,
): SagaTracing {
  const tracer = resolveTracer(parseInstrumentationOptions(options, 'traceSagaOrchestrator'));
  if (tracer === undefined) return { withStep: (_s, _t, fn) => fn(), stop() {} };
  const sagas = new Map<string, { span: Span; context: Context }>();
  const steps = new Map<string, { span: Span; context: Context }>();
  const key = (sagaId: string, stepId: string): string => `${sagaId}\0${stepId}`;
  const within = <T>(k: string, fn: () => T): T => {
    const step = steps.get(k);
    return step === undefined ? fn() : context.with(step.context, fn);
  };
  const compensationOf = (stepId: string): string => `${stepId}#compensation`;
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
    attributes: Record<string, string | undefined>,
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
      startChild(e.sagaId, compensationOf(e.stepId), `compensate ${e.stepId}`, { [A.sagaStep]: e.stepId }),
    ),
    source.on('compensation:completed', (e) => endChild(e.sagaId, compensationOf(e.stepId))),
    source.on('compensation:failed', (e) => endChild(e.sagaId, compensationOf(e.stepId), e.error)),
  ];
  if (typeof source.useStepContext === 'function') {
    offs.push(
      source.useStepContext({
        runStep: (at, fn) => within(key(at.sagaId, at.stepId), fn),
        runCompensation: (at, fn) => within(key(at.sagaId, compensationOf(at.stepId)), fn),
      }),
    );
  }
  const stopListening = unsubscribeAll(offs);
  return {
    withStep: (sagaId, stepId, fn) => within(key(sagaId, stepId), fn),
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
