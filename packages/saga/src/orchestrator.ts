import {
  type Clock,
  Emitter,
  type Env,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import { validateStepsCached } from './dag';
import { type DriveTarget, driveSaga } from './drive-saga';
import { HandlerRegistry } from './handler-registry';
import { assertJson } from './json';
import { LeaseKeeper } from './leases';
import { InMemorySagaStore } from './memory-store';
import { orchestratorOptionsFromEnv } from './orchestrator-env';
import {
  closeOptionsSchema,
  orchestratorOptionsSchema,
  type ParsedOrchestratorOptions,
  type SagaOrchestratorOptions,
} from './orchestrator-options';
import type {
  CompensationHandler,
  SagaHealth,
  SagaInstance,
  SagaOrchestratorEvents,
  StepHandler,
} from './orchestrator-types';
import { markReady } from './run-forward';
import { SagaHistory } from './saga-history';
import { newRecord, newRun, type Run, type SagaRuntime, Suspended, suspend } from './saga-run';
import { toInstance } from './saga-view';
import { assertStepContextHook, type StepContextHook } from './step-context';
import type { SagaStepDefinition, SagaStore } from './store';
import { guardedLogger, nextId, toServiceError } from './user-callbacks';

function badRequest(message: string): ServiceError {
  return new ServiceError(ServiceErrorCode.BAD_REQUEST, message, undefined, { retryable: false });
}

/**
 * Runs sagas defined as data: steps name registered handlers, so a saga started by one
 * process can be finished by another after a crash. Steps form a DAG and run as soon as their
 * dependencies completed; on failure the completed steps are compensated in reverse completion
 * order. Every transition is written to the store before the side effects it announces, so the
 * log always says what may have happened.
 *
 * This class is the facade: handler registration, starting, watching and stopping sagas. The
 * work is done by `drive-saga.ts` (the forward run of `run-forward.ts`, then the compensation
 * of `orchestrator-compensation.ts`), the lease keeper (`leases.ts`) and the history of finished
 * sagas with its cleanup (`saga-history.ts`).
 */
export class SagaOrchestrator {
  readonly id: string;
  readonly #opts: ParsedOrchestratorOptions;
  readonly #runtime: SagaRuntime;
  readonly #store: SagaStore;
  readonly #ownsStore: boolean;
  readonly #clock: Clock;
  readonly #emitter = new Emitter<SagaOrchestratorEvents>();
  readonly #handlers: HandlerRegistry;
  readonly #active = new Map<string, Run>();
  readonly #history: SagaHistory;
  readonly #leases: LeaseKeeper;
  /** Where `driveSaga` puts a saga when it ends. */
  readonly #target: DriveTarget;
  #ready: Promise<void> | undefined;
  #closed = false;
  #recovering: Promise<string[]> | undefined;

  constructor(options: SagaOrchestratorOptions = {}) {
    this.#opts = parseOptions(orchestratorOptionsSchema, options, 'SagaOrchestrator');
    this.id = this.#opts.orchestratorId ?? nextId(this.#opts.createId, 'SagaOrchestrator');
    this.#clock = this.#opts.clock ?? systemClock;
    this.#handlers = new HandlerRegistry(this.#opts.remoteSteps);
    this.#history = new SagaHistory({
      limit: this.#opts.historyLimit,
      retentionMs: this.#opts.historyRetentionMs,
      cleanupIntervalMs: this.#opts.cleanupIntervalMs,
      clock: this.#clock,
    });
    this.#ownsStore = this.#opts.store === undefined;
    this.#store = this.#opts.store ?? new InMemorySagaStore({ clock: this.#clock });
    this.#runtime = {
      orchestratorId: this.id,
      options: this.#opts,
      store: this.#store,
      clock: this.#clock,
      logger: guardedLogger(this.#opts.logger ?? noopLogger),
      emitter: this.#emitter,
      handlers: this.#handlers,
      stepRetries: new Map(),
      stepContext: undefined,
    };
    this.#leases = new LeaseKeeper(this.#runtime, this.#active, () => this.recover());
    this.#target = { active: this.#active, history: this.#history };
  }

  /**
   * An orchestrator configured from the environment: `SAGA_STEP_TIMEOUT` (ms),
   * `SAGA_MAX_ACTIVE_SAGAS`, `SAGA_CLEANUP_INTERVAL` (ms); `overrides` (a store, a logger …) win
   * over the environment. A bad value throws BAD_REQUEST naming the variable.
   */
  static fromEnv(env: Env = process.env, overrides: SagaOrchestratorOptions = {}): SagaOrchestrator {
    return new SagaOrchestrator({ ...orchestratorOptionsFromEnv(env), ...overrides });
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof SagaOrchestratorEvents>(
    event: K,
    listener: (e: SagaOrchestratorEvents[K]) => void,
  ): Unsubscribe {
    return this.#emitter.on(event, listener);
  }

  /**
   * Installs the hook every step attempt and every compensation attempt runs inside
   * (`traceSagaOrchestrator` of `@clone/telemetry` installs one, so a handler's calls are
   * children of its step's span). One hook at a time; returns its removal. Throws BAD_REQUEST
   * naming `hook` for anything without `runStep` and `runCompensation`.
   */
  useStepContext(hook: StepContextHook): () => void {
    const checked = assertStepContextHook(hook, 'useStepContext', 'hook');
    this.#runtime.stepContext = checked;
    return () => {
      if (this.#runtime.stepContext === checked) this.#runtime.stepContext = undefined;
    };
  }

  /** Registers the handler steps name in `action`. */
  registerStepHandler<C = any>(action: string, handler: StepHandler<C>): void {
    this.#handlers.registerStep(action, handler as StepHandler);
  }

  /** Registers the handler steps name in `compensationAction`. */
  registerCompensationHandler<C = any>(action: string, handler: CompensationHandler<C>): void {
    this.#handlers.registerCompensation(action, handler as CompensationHandler);
  }

  /**
   * Validates and records a saga, starts the steps without dependencies, and resolves with its
   * id once the start is durable (the saga then runs in the background; see `waitForSaga`).
   * Throws BAD_REQUEST for invalid steps (unknown dependency, cycle, unregistered handler, a
   * duration beyond what a timer holds) or a context that is not JSON, BULKHEAD_FULL at the
   * active-saga limit.
   */
  async startSaga(
    type: string,
    steps: readonly SagaStepDefinition[],
    context: unknown,
    correlationId?: string,
    options: { sagaId?: string } = {},
  ): Promise<string> {
    if (this.#closed) {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'SagaOrchestrator is closed');
    }
    if (typeof type !== 'string' || type === '')
      throw badRequest('startSaga: type must be a non-empty string');
    const defs = validateStepsCached(steps);
    this.#handlers.assertRegistered(defs);
    assertJson(context, `startSaga: the context of saga '${type}'`);
    if (this.#active.size >= this.#opts.maxActiveSagas) {
      throw new ServiceError(
        ServiceErrorCode.BULKHEAD_FULL,
        `startSaga: ${this.#active.size} sagas are active, the limit is ${this.#opts.maxActiveSagas}`,
        undefined,
        { retryable: true, metadata: { maxActiveSagas: this.#opts.maxActiveSagas } },
      );
    }
    if (options.sagaId !== undefined && (typeof options.sagaId !== 'string' || options.sagaId === '')) {
      throw badRequest('startSaga: sagaId must be a non-empty string');
    }
    const record = newRecord({
      id: options.sagaId ?? nextId(this.#opts.createId, 'startSaga'),
      type,
      steps: defs,
      context,
      correlationId,
      now: this.#clock.now(),
    });
    if (this.#active.has(record.id)) throw this.#conflict(record.id);
    const run = newRun(record);
    // Reserve the slot before the first await so concurrent starts cannot overshoot the limit.
    this.#active.set(record.id, run);
    const roots = markReady(record, this.#clock.now());
    try {
      await this.#init();
      const created = await this.#store.write({
        record,
        owner: this.id,
        leaseMs: this.#opts.leaseMs,
        create: true,
      });
      if (!created) throw this.#conflict(record.id);
    } catch (error) {
      this.#active.delete(record.id);
      throw toServiceError(error);
    }
    run.persisted = true;
    this.#history.totals.started++;
    this.#emitter.emit('saga:started', { sagaId: record.id, type, correlationId });
    void driveSaga(this.#runtime, run, roots, this.#target);
    return record.id;
  }

  #conflict(id: string): ServiceError {
    return new ServiceError(
      ServiceErrorCode.CONFLICT,
      `startSaga: a saga with id '${id}' exists`,
      undefined,
      {
        retryable: false,
      },
    );
  }

  /** This orchestrator's view of a saga it runs or ran recently; `loadSaga` reads the store. */
  getSagaStatus(sagaId: string): SagaInstance | undefined {
    const run = this.#active.get(sagaId);
    if (run) return toInstance(run.record);
    return this.#history.get(sagaId);
  }

  /** Reads a saga from the store, whoever runs it. */
  async loadSaga(sagaId: string): Promise<SagaInstance | undefined> {
    await this.#init();
    const record = await this.#store.load(sagaId);
    return record && toInstance(record);
  }

  /** Sagas this orchestrator is running now. */
  getActiveSagas(): SagaInstance[] {
    return [...this.#active.values()].filter((r) => r.persisted).map((r) => toInstance(r.record));
  }

  /** Sagas this orchestrator finished, oldest first (the last `historyLimit`). */
  getSagaHistory(): SagaInstance[] {
    return this.#history.list();
  }

  /** Resolves with the saga's final state once this orchestrator finished it. */
  waitForSaga(sagaId: string): Promise<SagaInstance> {
    const run = this.#active.get(sagaId);
    if (run) return run.done;
    const finished = this.#history.get(sagaId);
    if (finished) return Promise.resolve(finished);
    return Promise.reject(
      new ServiceError(
        ServiceErrorCode.NOT_FOUND,
        `Saga '${sagaId}' is not run by this orchestrator`,
        undefined,
        {
          retryable: false,
        },
      ),
    );
  }

  /**
   * Stops a running saga: in-flight steps are aborted, nothing new starts, completed steps are
   * compensated. Resolves with the final state, or undefined when this orchestrator does not
   * run the saga. A saga already compensating just finishes.
   */
  async cancelSaga(sagaId: string, reason: string): Promise<SagaInstance | undefined> {
    const run = this.#active.get(sagaId);
    if (!run) return undefined;
    if (run.record.status === 'running' && run.cancelError === undefined) {
      run.record.cancelReason = reason;
      run.cancelError = new ServiceError(ServiceErrorCode.CANCELLED, `Saga cancelled: ${reason}`, undefined, {
        retryable: false,
        metadata: { reason },
      });
      this.#emitter.emit('saga:cancelled', { sagaId, type: run.record.type, reason });
      run.steps.abort(run.cancelError);
    }
    return run.done;
  }

  /**
   * Claims sagas whose owner's lease expired (a crashed or stopped orchestrator) and drives them
   * to the end: steps recorded as completed are never run again, steps that may have run are run
   * again with the same idempotency key. Resolves with the claimed ids. Call it on start.
   */
  recover(): Promise<string[]> {
    this.#recovering ??= this.#recoverOnce().finally(() => {
      this.#recovering = undefined;
    });
    return this.#recovering;
  }

  async #recoverOnce(): Promise<string[]> {
    if (this.#closed) return [];
    await this.#init();
    const room = this.#opts.maxActiveSagas - this.#active.size;
    if (room <= 0) return [];
    const claimed = (await this.#leases.claim(room)).filter(
      // A saga of ours whose lease ran out while we still drive it (an event loop stalled past
      // the lease) comes back to us: the run in progress keeps it; a second would repeat steps.
      ({ record }) => !this.#active.has(record.id),
    );
    for (const { record, interrupted } of claimed) {
      const run = newRun(record);
      run.persisted = true;
      this.#active.set(record.id, run);
      this.#history.totals.recovered++;
      this.#emitter.emit('saga:recovered', {
        sagaId: record.id,
        type: record.type,
        status: record.status,
        interruptedSteps: interrupted,
      });
      this.#runtime.logger.info('saga recovered', { sagaId: record.id, status: record.status, interrupted });
      void driveSaga(this.#runtime, run, [], this.#target);
    }
    return claimed.map((c) => c.record.id);
  }

  /** Store reachability and load. */
  async healthCheck(): Promise<SagaHealth> {
    const started = this.#clock.now();
    const store: SagaHealth['store'] = { healthy: true, latencyMs: 0 };
    try {
      await this.#init();
      await this.#store.ping();
    } catch (error) {
      store.healthy = false;
      store.error = toServiceError(error).message;
    }
    store.latencyMs = this.#clock.now() - started;
    return {
      healthy: store.healthy && !this.#closed,
      orchestratorId: this.id,
      activeSagas: this.#active.size,
      maxActiveSagas: this.#opts.maxActiveSagas,
      store,
      totals: { ...this.#history.totals },
    };
  }

  /**
   * Stops timers and new starts, waits up to `drainTimeoutMs` (default 5 s) for active sagas to
   * finish, then lets go of the rest: their leases are released so another orchestrator resumes
   * them at once. Closes the store only if the orchestrator created it. Throws BAD_REQUEST (and
   * stays open) for a `drainTimeoutMs` a timer cannot hold.
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    const { drainTimeoutMs } = parseOptions(closeOptionsSchema, options, 'SagaOrchestrator.close');
    if (this.#closed) return;
    this.#closed = true;
    this.#leases.stop();
    this.#history.stop();
    await this.#recovering?.catch(() => undefined);
    const pending = [...this.#active.values()].map((r) => r.done.catch(() => undefined));
    // 0 lets go at once, without a timer: the clock may be one that never fires (tests).
    if (pending.length > 0 && drainTimeoutMs > 0) {
      let timer: unknown;
      await Promise.race([
        Promise.all(pending),
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, drainTimeoutMs, true);
        }),
      ]);
      this.#clock.clearTimeout(timer);
    }
    const left = [...this.#active.values()];
    for (const run of left) suspend(run, new Suspended('closed'));
    await Promise.all(left.map((r) => r.done.catch(() => undefined)));
    if (left.length > 0) {
      const ids = left.map((r) => r.record.id);
      await this.#store.release(this.id, ids).catch((error: unknown) => {
        this.#runtime.logger.warn('could not release saga leases', { error: toServiceError(error).message });
      });
    }
    this.#emitter.removeAllListeners();
    if (this.#ownsStore) await this.#store.close();
  }

  /** Initialises the store once; a failed attempt (database down at boot) is retried next call. */
  #init(): Promise<void> {
    this.#ready ??= this.#store.init().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }
}
