import { isServiceErrorCode, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { CompensationFailure } from './compensation';
import { dictionary } from './dictionary';
import type { JsonValue } from './json';
import type { SagaInstance } from './orchestrator-types';
import type { SagaRecord, StoredError } from './store';

/**
 * Conversions between what the store holds and what callers see. Step ids are user data, so
 * every map keyed by them is a `Map` or a null-prototype object: `__proto__`, `constructor` and
 * `prototype` are ordinary step ids.
 */

/** Results of the completed steps, by step id, in completion order. */
export function completedResults(record: SagaRecord): Record<string, JsonValue> {
  const results = dictionary<JsonValue>();
  for (const id of record.completionOrder) {
    const result = record.stepStates[id]?.result;
    if (result !== undefined) results[id] = result;
  }
  return results;
}

/** What survives a restart of a ServiceError. */
export function toStored(error: ServiceError, step?: string): StoredError {
  const stored: StoredError = { code: error.code, message: error.message, retryable: error.retryable };
  if (error.service !== undefined) stored.service = error.service;
  if (step !== undefined) stored.step = step;
  return stored;
}

/** A ServiceError again, from what was stored. */
export function fromStored(stored: StoredError): ServiceError {
  const code = isServiceErrorCode(stored.code) ? stored.code : ServiceErrorCode.INTERNAL_ERROR;
  return new ServiceError(code, stored.message, stored.service, {
    retryable: stored.retryable,
    metadata: stored.step === undefined ? undefined : { step: stored.step },
  });
}

/** A view of `record`; copies what may still change unless the saga is `final`. */
export function toInstance(record: SagaRecord, final = false): SagaInstance {
  const stepResults = new Map<string, JsonValue>();
  const compensationErrors: CompensationFailure[] = [];
  const completed = new Set(record.completionOrder);
  const stepStates = dictionary<SagaRecord['stepStates'][string]>();
  const waitingOn: SagaInstance['waitingOn'] = [];
  for (const def of record.steps) {
    const status = record.stepStates[def.id]?.status;
    if (status === 'running' || status === 'compensating') {
      waitingOn.push({ stepId: def.id, service: def.service, status });
    }
  }
  for (const [id, state] of Object.entries(record.stepStates)) {
    stepStates[id] = final ? state : structuredClone(state);
    if (state.result !== undefined && completed.has(id)) stepResults.set(id, state.result);
    if (state.compensationError)
      compensationErrors.push({ step: id, error: fromStored(state.compensationError) });
  }
  return {
    id: record.id,
    type: record.type,
    correlationId: record.correlationId,
    status: record.status,
    context: record.context,
    steps: record.steps,
    stepResults,
    stepStates,
    completedSteps: [...record.completionOrder],
    startedAt: new Date(record.startedAt),
    completedAt: record.completedAt === undefined ? undefined : new Date(record.completedAt),
    error: record.error && fromStored(record.error),
    compensationErrors,
    cancelReason: record.cancelReason,
    waitingOn,
  };
}
