/**
 * What one conversation saga shows the live view as it runs: each step's outcome with a line
 * describing its result, and each compensation with what it did. The saga's events, spans and
 * metrics come from `@clone/saga` itself (`createSaga` reports to the orchestrator's
 * `SagaMonitor`); this adds only the words a person reads.
 */
import type { SagaMonitor } from '@clone/saga';
import { ServiceError } from '@clone/service-errors';

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

/** Where a report goes: the monitor the saga reports to, and the live view. */
export interface SagaReportSinks {
  sagas: SagaMonitor;
  onStep(event: StepEnded): void;
  onCompensation(event: CompensationRan): void;
}

/** The live view of one conversation saga. */
export class ConversationSagaReport {
  readonly sessionId: string;
  /** `conversation-<sessionId>`: the saga's id, and `clone.saga.id` of its span. */
  readonly sagaId: string;
  readonly #sinks: SagaReportSinks;

  constructor(sinks: SagaReportSinks, sessionId: string) {
    this.#sinks = sinks;
    this.sessionId = sessionId;
    this.sagaId = `conversation-${sessionId}`;
  }

  /** The monitor the saga reports its events to (and runs its steps' attempts in the spans of). */
  get sagas(): SagaMonitor {
    return this.#sinks.sagas;
  }

  /** Runs one step's work; `detail` describes its result for the live view. */
  async step<T>(step: string, run: () => Promise<T>, detail: (value: T) => string): Promise<T> {
    const { sessionId } = this;
    const start = performance.now();
    try {
      const value = await run();
      this.#sinks.onStep({
        sessionId,
        step,
        ok: true,
        durationMs: performance.now() - start,
        detail: detail(value),
      });
      return value;
    } catch (error) {
      const e = ServiceError.from(error);
      this.#sinks.onStep({
        sessionId,
        step,
        ok: false,
        durationMs: performance.now() - start,
        detail: `${e.code}: ${e.message}`,
      });
      throw error;
    }
  }

  /** Runs one compensation; `run` resolves with what it did, for the live view. */
  async compensate(step: string, run: () => Promise<string>): Promise<void> {
    const detail = await run();
    this.#sinks.onCompensation({ sessionId: this.sessionId, step, detail });
  }
}
