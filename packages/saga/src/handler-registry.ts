import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import type { CompensationHandler, RemoteStepSource, StepHandler } from './orchestrator-types';
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
  readonly #remote: RemoteStepSource | undefined;

  /** `remote` serves the actions registered nowhere here (steps other processes run). */
  constructor(remote?: RemoteStepSource) {
    this.#remote = remote;
  }

  /** Registers (or replaces) the handler of `action`. Throws BAD_REQUEST for a bad name or non-function. */
  registerStep(action: string, handler: StepHandler): void {
    register(this.#steps, 'registerStepHandler', action, handler);
  }

  /** Registers (or replaces) the compensation handler of `action`. */
  registerCompensation(action: string, handler: CompensationHandler): void {
    register(this.#compensations, 'registerCompensationHandler', action, handler);
  }

  /** The handler of `def`'s action: the local one, else the remote source's. */
  step(def: SagaStepDefinition): StepHandler | undefined {
    return this.#steps.get(def.action) ?? this.#remote?.stepHandler(def);
  }

  /** The handler of `def`'s compensation: the local one, else the remote source's. */
  compensation(def: SagaStepDefinition): CompensationHandler | undefined {
    const action = def.compensationAction;
    if (action === undefined) return undefined;
    return this.#compensations.get(action) ?? this.#remote?.compensationHandler(def);
  }

  /** The actions registered here: what a participant announces it serves. */
  actions(): { steps: string[]; compensations: string[] } {
    return { steps: [...this.#steps.keys()], compensations: [...this.#compensations.keys()] };
  }

  /** Throws BAD_REQUEST naming the first step whose action or compensation has no handler. */
  assertRegistered(defs: readonly SagaStepDefinition[]): void {
    for (const def of defs) {
      if (!this.#steps.has(def.action)) {
        if (this.#remote !== undefined) this.#remote.assertServes(def, 'step');
        else
          throw badRequest(
            `startSaga: step '${def.id}' names action '${def.action}', which has no registered step handler`,
            { step: def.id, action: def.action },
          );
      }
      if (def.compensationAction !== undefined && !this.#compensations.has(def.compensationAction)) {
        if (this.#remote !== undefined) this.#remote.assertServes(def, 'compensation');
        else
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
