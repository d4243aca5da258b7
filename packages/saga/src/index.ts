export type { CompensationFailure } from './compensation';
export { HandlerRegistry } from './handler-registry';
export { type JsonValue, jsonProblem } from './json';
export { InMemorySagaStore, type InMemorySagaStoreOptions } from './memory-store';
export { SagaOrchestrator } from './orchestrator';
export type { SagaOrchestratorOptions } from './orchestrator-options';
export type {
  CompensationExecution,
  CompensationHandler,
  RemoteStepSource,
  SagaHealth,
  SagaInstance,
  SagaOrchestratorEvents,
  StepExecution,
  StepHandler,
  SuspendReason,
} from './orchestrator-types';
export {
  type CompensationContext,
  createSaga,
  type SagaAction,
  SagaBuilder,
  type SagaCompensation,
  type SagaOptions,
  type SagaResult,
  type SagaStepOptions,
  type StepContext,
} from './saga-builder';
export { SagaMonitor, type SagaMonitorEvents } from './saga-monitor';
export type { StepAttempt, StepContextHook } from './step-context';
export type { RetryLike } from './step-runner';
export type {
  SagaRecord,
  SagaStatus,
  SagaStepDefinition,
  SagaStore,
  SagaWrite,
  StepState,
  StepStatus,
  StoredError,
} from './store';
