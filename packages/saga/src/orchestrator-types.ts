import type { ServiceError } from '@clone/service-errors';
import type { CompensationFailure } from './compensation';
import type { JsonValue } from './json';
import type { SagaStatus, SagaStepDefinition, StepState } from './store';

/** What a step handler is told about the execution beyond the step and the saga's context. */
export interface StepExecution {
  sagaId: string;
  /** The saga's type, as given to `startSaga`. */
  sagaType: string;
  stepId: string;
  /** `${sagaId}:${stepId}`: the same on every attempt and after a crash; deduplicate on it. */
  idempotencyKey: string;
  /** 1 for the first attempt of this execution (retries count up). */
  attempt: number;
  /** Executions of this step so far, including this one; above 1 after a crash re-ran it. */
  execution: number;
  /** Aborts on timeout, cancel, a sibling's failure, or when this orchestrator lets go of the saga. */
  signal: AbortSignal;
  /**
   * Results of the steps completed so far, by step id. A null-prototype object: any step id
   * (`__proto__` included) is an ordinary key.
   */
  results: Readonly<Record<string, JsonValue>>;
  correlationId: string | undefined;
}

/** What a compensation handler is told beyond {@link StepExecution}. */
export interface CompensationExecution extends StepExecution {
  /** The step's recorded result; undefined when the step failed or was interrupted. */
  result: JsonValue | undefined;
  /** True when undoing a step that failed or whose outcome was lost in a crash. */
  failed: boolean;
}

/** Runs a step's action. Its return value must be JSON (it is stored). */
export type StepHandler<C = any> = (
  step: SagaStepDefinition,
  context: C,
  execution: StepExecution,
) => unknown;

/** Undoes a step's action. Must be idempotent: it may run again after a crash. */
export type CompensationHandler<C = any> = (
  step: SagaStepDefinition,
  context: C,
  execution: CompensationExecution,
) => unknown;

/** A read-only view of a saga, as the orchestrator or the store knows it. */
export interface SagaInstance {
  id: string;
  type: string;
  correlationId: string | undefined;
  status: SagaStatus;
  context: JsonValue;
  steps: readonly SagaStepDefinition[];
  /** Results of completed steps, by step id. */
  stepResults: Map<string, JsonValue>;
  /** State of each step, by step id (a null-prototype object: any step id is an ordinary key). */
  stepStates: Readonly<Record<string, Readonly<StepState>>>;
  /** Step ids in completion order. */
  completedSteps: string[];
  startedAt: Date;
  completedAt: Date | undefined;
  /** Why the saga was compensated. */
  error: ServiceError | undefined;
  compensationErrors: CompensationFailure[];
  cancelReason: string | undefined;
  /**
   * The steps in flight (running, or compensating) and the service each waits on: the step's
   * `service`, which for a step run by another process is where its command went.
   */
  waitingOn: { stepId: string; service: string; status: 'running' | 'compensating' }[];
}

/**
 * Where an orchestrator finds the handlers of steps it has no local handler for: the steps
 * another process runs (`@clone/distributed-saga` sends them as commands over the event bus).
 * The registry asks it only for actions with no local registration.
 */
export interface RemoteStepSource {
  /**
   * Throws BAD_REQUEST naming the step when nothing serves `def`'s action (`kind` 'step') or its
   * compensation (`kind` 'compensation'); called by `startSaga` before anything is written.
   */
  assertServes(def: SagaStepDefinition, kind: 'step' | 'compensation'): void;
  /** The handler that runs `def`'s action elsewhere; undefined when nothing serves it. */
  stepHandler(def: SagaStepDefinition): StepHandler | undefined;
  /** The handler that runs `def`'s compensation elsewhere; undefined when nothing serves it. */
  compensationHandler(def: SagaStepDefinition): CompensationHandler | undefined;
}

/** Why an orchestrator stopped driving a saga it had not finished. */
export type SuspendReason = 'lease-lost' | 'store-error' | 'closed';

/** Events of {@link SagaOrchestrator}. */
export interface SagaOrchestratorEvents {
  'saga:started': { sagaId: string; type: string; correlationId: string | undefined };
  'saga:recovered': { sagaId: string; type: string; status: SagaStatus; interruptedSteps: string[] };
  'saga:completed': { sagaId: string; type: string; durationMs: number };
  'saga:compensating': { sagaId: string; type: string; error: ServiceError; failedStep: string | undefined };
  'saga:compensated': { sagaId: string; type: string; durationMs: number };
  'saga:failed': { sagaId: string; type: string; compensationErrors: CompensationFailure[] };
  'saga:cancelled': { sagaId: string; type: string; reason: string };
  'saga:suspended': { sagaId: string; type: string; reason: SuspendReason; error?: ServiceError };
  'step:started': {
    sagaId: string;
    stepId: string;
    /** The service the step runs in (its definition's `service`). */
    service: string;
    action: string;
    execution: number;
    idempotencyKey: string;
  };
  'step:retrying': { sagaId: string; stepId: string; attempt: number };
  'step:completed': { sagaId: string; stepId: string; durationMs: number };
  'step:failed': { sagaId: string; stepId: string; error: ServiceError };
  'compensation:started': { sagaId: string; stepId: string; action: string };
  'compensation:completed': { sagaId: string; stepId: string };
  'compensation:failed': { sagaId: string; stepId: string; error: ServiceError };
}

/** Result of {@link SagaOrchestrator.healthCheck}. */
export interface SagaHealth {
  healthy: boolean;
  orchestratorId: string;
  activeSagas: number;
  maxActiveSagas: number;
  store: { healthy: boolean; latencyMs: number; error?: string };
  totals: {
    started: number;
    recovered: number;
    completed: number;
    compensated: number;
    failed: number;
    suspended: number;
  };
}
