import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { CompensationHandler, StepHandler } from './orchestrator-types';
import type { SagaStepDefinition } from './store';

function badRequest(message: string, metadata?: Record<string, unknown>): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, undefined, { retryable: false, metadata });
}

/**
 * The handlers steps name: an orchestrator's sagas are data, and the code they run is looked
 * up here by action name, so any process with the same registrations can finish a saga.
 */
export class HandlerRegistry {
  readonly #steps = new Map<string, StepHandler>();
  readonly #compensations = new Map<string, CompensationHandler>();

  /** Registers (or replaces) the handler of `action`. Throws BAD_REQUEST for a bad name or non-function. */
  registerStep(action: string, handler: StepHandler): void {
    register(this.#steps, 'registerStepHandler', action, handler);
  }

  /** Registers (or replaces) the compensation handler of `action`. */
  registerCompensation(action: string, handler: CompensationHandler): void {
    register(this.#compensations, 'registerCompensationHandler', action, handler);
  }

  step(action: string): StepHandler | undefined {
    return this.#steps.get(action);
  }

  compensation(action: string): CompensationHandler | undefined {
    return this.#compensations.get(action);
  }

  /** Throws BAD_REQUEST naming the first step whose action or compensation has no handler. */
  assertRegistered(defs: readonly SagaStepDefinition[]): void {
    for (const def of defs) {
      if (!this.#steps.has(def.action)) {
        throw badRequest(
          `startSaga: step '${def.id}' names action '${def.action}', which has no registered step handler`,
          { step: def.id, action: def.action },
        );
      }
      if (def.compensationAction !== undefined && !this.#compensations.has(def.compensationAction)) {
        throw badRequest(
          `startSaga: step '${def.id}' names compensation '${def.compensationAction}', which has no registered compensation handler`,
          { step: def.id, compensationAction: def.compensationAction },
        );
      }
    }
  }
}

function register<H>(map: Map<string, H>, method: string, action: string, handler: H): void {
  if (typeof action !== 'string' || action === '') {
    throw badRequest(`${method}: action must be a non-empty string`);
  }
  if (typeof handler !== 'function') {
    throw badRequest(`${method}: handler for '${action}' must be a function`);
  }
  map.set(action, handler);
}
