export { type JsonValue, jsonProblem } from './json';
export { InMemorySagaStore, type InMemorySagaStoreOptions } from './memory-store';
export {
  type CompensationExecution,
  type CompensationHandler,
  type SagaHealth,
  type SagaInstance,
  SagaOrchestrator,
  type SagaOrchestratorEvents,
  type SagaOrchestratorOptions,
  type StepExecution,
  type StepHandler,
  type SuspendReason,
} from './orchestrator';
export {
  type CompensationContext,
  type CompensationFailure,
  createSaga,
  type SagaAction,
  SagaBuilder,
  type SagaCompensation,
  type SagaOptions,
  type SagaResult,
  type SagaStepOptions,
  type StepContext,
} from './saga-builder';
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
