/**
 * What one conversation saga reports as it runs. `createSaga` emits nothing, so the orchestrator
 * reports each saga, step and compensation itself: as the events of a `SagaOrchestrator`
 * (`SagaEvents`, what `instrumentSagaOrchestrator` and `traceSagaOrchestrator` read), running each
 * step's and each compensation's work in its span (`withStep`, so the calls it makes are the
 * span's children), and as the live view's `step` and `compensation` events.
 */
import type { SagaResult } from '@clone/saga';
import { type Emitter, ServiceError } from '@clone/service-errors';
import type { SagaEvents, SagaTracing } from '@clone/telemetry';

/** The saga type of the conversation saga (`clone.saga.type` of its spans and metrics). */
export const CONVERSATION_SAGA = 'conversation';

/** A saga step ended (the live view's `step` event). */
export interface StepEnded {
  sessionId: string;
  step: string;
  ok: boolean;
  durationMs: number;
  detail: string;
}

/** A compensation ran, after a later step failed (the live view's `compensation` event). */
export interface CompensationRan {
  sessionId: string;
  step: string;
  detail: string;
}

/** Where a report goes: the orchestrator's emitters and saga tracing. */
export interface SagaReportSinks {
  sagaEvents: Emitter<SagaEvents>;
  tracing: SagaTracing;
  onStep(event: StepEnded): void;
  onCompensation(event: CompensationRan): void;
}

/** The report of one conversation saga, from its start (see {@link ConversationSagaReport.start}). */
export class ConversationSagaReport {
  readonly sessionId: string;
  /** `conversation-<sessionId>`: the saga's id, and `clone.saga.id` of its span. */
  readonly sagaId: string;
  readonly #sinks: SagaReportSinks;
  readonly #start = performance.now();

  private constructor(sinks: SagaReportSinks, sessionId: string) {
    this.#sinks = sinks;
    this.sessionId = sessionId;
    this.sagaId = `conversation-${sessionId}`;
  }

  /** Reports the saga started (its span starts, a child of the active context). */
  static start(sinks: SagaReportSinks, sessionId: string): ConversationSagaReport {
    const report = new ConversationSagaReport(sinks, sessionId);
    sinks.sagaEvents.emit('saga:started', { sagaId: report.sagaId, type: CONVERSATION_SAGA });
    return report;
  }

  /** Runs one step's work in its span; `detail` describes its result for the live view. */
  async step<T>(
    step: string,
    service: string,
    method: string,
    run: () => Promise<T>,
    detail: (value: T) => string,
  ): Promise<T> {
    const { sagaId, sessionId } = this;
    const { sagaEvents, tracing, onStep } = this.#sinks;
    const start = performance.now();
    sagaEvents.emit('step:started', { sagaId, stepId: step, service, action: method, execution: 1 });
    try {
      const value = await tracing.withStep(sagaId, step, run);
      const durationMs = performance.now() - start;
      sagaEvents.emit('step:completed', { sagaId, stepId: step, durationMs });
      onStep({ sessionId, step, ok: true, durationMs, detail: detail(value) });
      return value;
    } catch (error) {
      const e = ServiceError.from(error);
      sagaEvents.emit('step:failed', { sagaId, stepId: step, error: { code: e.code, message: e.message } });
      onStep({
        sessionId,
        step,
        ok: false,
        durationMs: performance.now() - start,
        detail: `${e.code}: ${e.message}`,
      });
      throw error;
    }
  }

  /** Runs one compensation in its span; `run` resolves with what it did, for the live view. */
  async compensate(step: string, action: string, run: () => Promise<string>): Promise<void> {
    const { sagaId, sessionId } = this;
    const { sagaEvents, tracing, onCompensation } = this.#sinks;
    sagaEvents.emit('compensation:started', { sagaId, stepId: step, action });
    try {
      // traceSagaOrchestrator keys a compensation's span as `<step>#compensation`.
      const detail = await tracing.withStep(sagaId, `${step}#compensation`, run);
      sagaEvents.emit('compensation:completed', { sagaId, stepId: step });
      onCompensation({ sessionId, step, detail });
    } catch (error) {
      const e = ServiceError.from(error);
      sagaEvents.emit('compensation:failed', {
        sagaId,
        stepId: step,
        error: { code: e.code, message: e.message },
      });
      throw error;
    }
  }

  /** Reports how the saga ended: completed, compensated (every compensation ran) or failed. */
  end(saga: SagaResult<unknown>): void {
    const { sagaId } = this;
    const durationMs = performance.now() - this.#start;
    const { sagaEvents } = this.#sinks;
    if (saga.success) sagaEvents.emit('saga:completed', { sagaId, type: CONVERSATION_SAGA, durationMs });
    else if (saga.compensationErrors.length === 0)
      sagaEvents.emit('saga:compensated', { sagaId, type: CONVERSATION_SAGA, durationMs });
    else sagaEvents.emit('saga:failed', { sagaId, type: CONVERSATION_SAGA });
  }
}
