import { type Clock, type Emitter, type Logger, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { dictionary } from './dictionary';
import type { HandlerRegistry } from './handler-registry';
import { deepFreeze, type JsonValue } from './json';
import type { ParsedOrchestratorOptions } from './orchestrator-options';
import type {
  SagaInstance,
  SagaOrchestratorEvents,
  StepExecution,
  SuspendReason,
} from './orchestrator-types';
import type { StepContextHook } from './step-context';
import type { RetryLike } from './step-runner';
import type { SagaRecord, SagaStepDefinition, SagaStore, StepState } from './store';
import { toServiceError } from './user-callbacks';

/** What the parts of an orchestrator (forward, compensation, leases) share with its facade. */
export interface SagaRuntime {
  readonly orchestratorId: string;
  readonly options: ParsedOrchestratorOptions;
  readonly store: SagaStore;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly emitter: Emitter<SagaOrchestratorEvents>;
  readonly handlers: HandlerRegistry;
  /** Step retry policies by `retryAttempts`: sagas share them. */
  readonly stepRetries: Map<number, RetryLike | undefined>;
  /** Wraps each step and compensation attempt (`useStepContext`); mutable: installed later. */
  stepContext: StepContextHook | undefined;
}

/** Thrown inside a run when this orchestrator must stop driving it. */
export class Suspended extends Error {
  constructor(
    readonly reason: SuspendReason,
    readonly error?: ServiceError,
  ) {
    super(reason);
  }

  /** What waiters of the saga are told: it is not over, it resumes wherever it is claimed next. */
  toServiceError(sagaId: string): ServiceError {
    return new ServiceError(
      ServiceErrorCode.CONFLICT,
      `Saga '${sagaId}' was suspended (${this.reason}); it resumes wherever it is claimed next`,
      undefined,
      { retryable: true, cause: this.error, metadata: { reason: this.reason } },
    );
  }
}

/** One saga this orchestrator drives: its record and how to stop it. */
export interface Run {
  record: SagaRecord;
  /** Aborts in-flight actions: cancel, a sibling's failure, suspension. */
  steps: AbortController;
  /** Aborts in-flight compensations: suspension only. */
  compensations: AbortController;
  cancelError: ServiceError | undefined;
  suspended: Suspended | undefined;
  persisted: boolean;
  done: Promise<SagaInstance>;
  settle(result: SagaInstance | ServiceError): void;
}

/**
 * The record of a new saga, all steps pending. The context is copied through JSON: handlers
 * see exactly what a recovering process would read back, frozen so none can change it.
 */
export function newRecord(saga: {
  id: string;
  type: string;
  steps: readonly SagaStepDefinition[];
  context: unknown;
  correlationId: string | undefined;
  now: number;
}): SagaRecord {
  // Keyed by step id, which is user data: a null-prototype object holds `__proto__` like any id.
  const stepStates = dictionary<StepState>();
  for (const d of saga.steps) stepStates[d.id] = { status: 'pending', attempts: 0 };
  const record: SagaRecord = {
    id: saga.id,
    type: saga.type,
    status: 'running',
    context: deepFreeze(JSON.parse(JSON.stringify(saga.context)) as JsonValue),
    steps: saga.steps,
    stepStates,
    completionOrder: [],
    startedAt: saga.now,
    updatedAt: saga.now,
  };
  if (saga.correlationId !== undefined) record.correlationId = saga.correlationId;
  return record;
}

/** A run of `record`, not yet persisted nor driven. */
export function newRun(record: SagaRecord): Run {
  let settle!: (result: SagaInstance | ServiceError) => void;
  const done = new Promise<SagaInstance>((resolve, reject) => {
    settle = (result) => (result instanceof ServiceError ? reject(result) : resolve(result));
  });
  // Nobody has to await a saga; a suspended one must not become an unhandled rejection.
  done.catch(() => undefined);
  return {
    record,
    steps: new AbortController(),
    compensations: new AbortController(),
    cancelError: undefined,
    suspended: undefined,
    persisted: false,
    done,
    settle,
  };
}

/**
 * Writes the run's record, fenced on this orchestrator's lease. Throws {@link Suspended} when
 * the run was suspended, the store failed, or the lease was taken over.
 */
export async function persist(runtime: SagaRuntime, run: Run): Promise<void> {
  if (run.suspended) throw run.suspended;
  run.record.updatedAt = runtime.clock.now();
  let ok: boolean;
  try {
    ok = await runtime.store.write({
      record: run.record,
      owner: runtime.orchestratorId,
      leaseMs: runtime.options.leaseMs,
      create: false,
    });
  } catch (error) {
    throw new Suspended('store-error', toServiceError(error));
  }
  if (run.suspended) throw run.suspended;
  if (!ok) throw new Suspended('lease-lost');
}

/** Stops driving the run: its handlers and compensations are aborted. Idempotent. */
export function suspend(run: Run, reason: Suspended): void {
  if (run.suspended) return;
  run.suspended = reason;
  const error = new ServiceError(ServiceErrorCode.CANCELLED, `Saga suspended: ${reason.reason}`);
  run.steps.abort(error);
  run.compensations.abort(error);
}

/** What a step's handler (and, with more, its compensation's) is told on one attempt. */
export function stepExecution(
  record: SagaRecord,
  def: SagaStepDefinition,
  state: StepState,
  attempt: number,
  signal: AbortSignal,
  results: Readonly<Record<string, JsonValue>>,
): StepExecution {
  return {
    sagaId: record.id,
    sagaType: record.type,
    stepId: def.id,
    idempotencyKey: `${record.id}:${def.id}`,
    attempt,
    execution: state.attempts,
    signal,
    results,
    correlationId: record.correlationId,
  };
}
