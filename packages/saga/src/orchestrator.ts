import { randomUUID } from 'node:crypto';
import { intAtLeast, nonEmptyString } from '@clone/internal';
import {
  type Clock,
  Emitter,
  isServiceErrorCode,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import { z } from 'zod';
import { validateStepsCached } from './dag';
import { assertJson, deepFreeze, type JsonValue } from './json';
import { InMemorySagaStore } from './memory-store';
import { defaultCompensationRetry, retryAttemptsPolicy } from './retry';
import type { CompensationFailure } from './saga-builder';
import { type RetryLike, runAttempts } from './step-runner';
import type { SagaRecord, SagaStatus, SagaStepDefinition, SagaStore, StepState, StoredError } from './store';

/** What a step handler is told about the execution beyond the step and the saga's context. */
export interface StepExecution {
  sagaId: string;
  stepId: string;
  /** `${sagaId}:${stepId}`: the same on every attempt and after a crash; deduplicate on it. */
  idempotencyKey: string;
  /** 1 for the first attempt of this execution (retries count up). */
  attempt: number;
  /** Executions of this step so far, including this one; above 1 after a crash re-ran it. */
  execution: number;
  /** Aborts on timeout, cancel, a sibling's failure, or when this orchestrator lets go of the saga. */
  signal: AbortSignal;
  /** Results of the steps completed so far, by step id. */
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

/** A read-only view of a saga (seed 003's shape). */
export interface SagaInstance {
  id: string;
  type: string;
  correlationId: string | undefined;
  status: SagaStatus;
  context: JsonValue;
  steps: readonly SagaStepDefinition[];
  /** Results of completed steps, by step id. */
  stepResults: Map<string, JsonValue>;
  stepStates: Readonly<Record<string, Readonly<StepState>>>;
  /** Step ids in completion order. */
  completedSteps: string[];
  startedAt: Date;
  completedAt: Date | undefined;
  /** Why the saga was compensated. */
  error: ServiceError | undefined;
  compensationErrors: CompensationFailure[];
  cancelReason: string | undefined;
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

const optionsSchema = z.strictObject({
  /** Where state lives. Default: an in-memory store (no crash recovery across processes). */
  store: z
    .custom<SagaStore>(
      (v) => typeof v === 'object' && v !== null && typeof (v as SagaStore).write === 'function',
      {
        error: 'must be a SagaStore',
      },
    )
    .optional(),
  /** Names this instance in leases. Default: a random UUID. */
  orchestratorId: nonEmptyString().optional(),
  /** Sagas run at once (started + recovered); `startSaga` beyond it throws BULKHEAD_FULL. */
  maxActiveSagas: intAtLeast(1).default(100),
  /** Per-attempt timeout of steps that set none. */
  defaultStepTimeoutMs: intAtLeast(1).default(30_000),
  /** How long a lease lasts; renewed every third of it. Another orchestrator takes over after it expires. */
  leaseMs: intAtLeast(100).default(30_000),
  /** How often to claim sagas whose owner died; 0 = only when `recover()` is called. */
  recoveryIntervalMs: intAtLeast(0).default(0),
  /** What to do with a recovered running saga: resume it (default) or compensate it. */
  recoveryPolicy: z.enum(['resume', 'compensate']).default('resume'),
  /** Finished sagas kept for `getSagaHistory()`. */
  historyLimit: intAtLeast(0).default(1000),
  /** Retry for compensations. Default: a few attempts with exponential backoff. */
  compensationRetry: z
    .custom<RetryLike>(
      (v) => typeof v === 'object' && v !== null && typeof (v as RetryLike).execute === 'function',
      {
        error: 'must be a retry policy',
      },
    )
    .optional(),
  clock: z.custom<Clock>((v) => typeof v === 'object' && v !== null, { error: 'must be a Clock' }).optional(),
  logger: z
    .custom<Logger>((v) => typeof v === 'object' && v !== null, { error: 'must be a Logger' })
    .optional(),
});

/** Options of {@link SagaOrchestrator}. */
export type SagaOrchestratorOptions = z.input<typeof optionsSchema>;

const ACTIVE: ReadonlySet<SagaStatus> = new Set(['running', 'compensating']);

/** Thrown inside a run when this orchestrator must stop driving it. */
class Suspended extends Error {
  constructor(
    readonly reason: SuspendReason,
    readonly error?: ServiceError,
  ) {
    super(reason);
  }
}

interface Outcome {
  id: string;
  ok: boolean;
  result?: JsonValue;
  error?: ServiceError;
  durationMs: number;
}

interface Run {
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
 * Runs sagas defined as data (seed 003): steps name registered handlers, so a saga started by
 * one process can be finished by another after a crash. Steps form a DAG and run as soon as
 * their dependencies completed; on failure the completed steps are compensated in reverse
 * completion order. Every transition is written to the store before the side effects it
 * announces, so the log always says what may have happened.
 */
export class SagaOrchestrator {
  readonly id: string;
  readonly #opts: z.output<typeof optionsSchema>;
  readonly #store: SagaStore;
  readonly #ownsStore: boolean;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #emitter = new Emitter<SagaOrchestratorEvents>();
  readonly #stepHandlers = new Map<string, StepHandler>();
  readonly #compensationHandlers = new Map<string, CompensationHandler>();
  readonly #active = new Map<string, Run>();
  readonly #history: SagaInstance[] = [];
  readonly #retries = new Map<number, RetryLike | undefined>();
  readonly #totals = { started: 0, recovered: 0, completed: 0, compensated: 0, failed: 0, suspended: 0 };
  #ready: Promise<void> | undefined;
  #closed = false;
  #heartbeat: unknown;
  #recoveryTimer: unknown;
  #recovering: Promise<string[]> | undefined;

  constructor(options: SagaOrchestratorOptions = {}) {
    this.#opts = parseOptions(optionsSchema, options, 'SagaOrchestrator');
    this.id = this.#opts.orchestratorId ?? randomUUID();
    this.#clock = this.#opts.clock ?? systemClock;
    this.#logger = this.#opts.logger ?? noopLogger;
    this.#ownsStore = this.#opts.store === undefined;
    this.#store = this.#opts.store ?? new InMemorySagaStore({ clock: this.#clock });
    this.#scheduleHeartbeat();
    if (this.#opts.recoveryIntervalMs > 0) this.#scheduleRecovery();
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<K extends keyof SagaOrchestratorEvents>(
    event: K,
    listener: (e: SagaOrchestratorEvents[K]) => void,
  ): Unsubscribe {
    return this.#emitter.on(event, listener);
  }

  /** Registers the handler steps name in `action`. */
  registerStepHandler<C = any>(action: string, handler: StepHandler<C>): void {
    this.#register(this.#stepHandlers, 'registerStepHandler', action, handler as StepHandler);
  }

  /** Registers the handler steps name in `compensationAction`. */
  registerCompensationHandler<C = any>(action: string, handler: CompensationHandler<C>): void {
    this.#register(
      this.#compensationHandlers,
      'registerCompensationHandler',
      action,
      handler as CompensationHandler,
    );
  }

  #register<H>(map: Map<string, H>, method: string, action: string, handler: H): void {
    if (typeof action !== 'string' || action === '') {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `${method}: action must be a non-empty string`,
        undefined,
        {
          retryable: false,
        },
      );
    }
    if (typeof handler !== 'function') {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        `${method}: handler for '${action}' must be a function`,
        undefined,
        {
          retryable: false,
        },
      );
    }
    map.set(action, handler);
  }

  /**
   * Validates and records a saga, starts the steps without dependencies, and resolves with its
   * id once the start is durable (the saga then runs in the background; see `waitForSaga`).
   * Throws BAD_REQUEST for invalid steps (unknown dependency, cycle, unregistered handler) or a
   * context that is not JSON, BULKHEAD_FULL at the active-saga limit.
   */
  async startSaga(
    type: string,
    steps: readonly SagaStepDefinition[],
    context: unknown,
    correlationId?: string,
    options: { sagaId?: string } = {},
  ): Promise<string> {
    if (this.#closed)
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'SagaOrchestrator is closed');
    if (typeof type !== 'string' || type === '') {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'startSaga: type must be a non-empty string',
        undefined,
        {
          retryable: false,
        },
      );
    }
    const defs = validateStepsCached(steps);
    for (const def of defs) {
      if (!this.#stepHandlers.has(def.action)) {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `startSaga: step '${def.id}' names action '${def.action}', which has no registered step handler`,
          undefined,
          { retryable: false, metadata: { step: def.id, action: def.action } },
        );
      }
      if (def.compensationAction !== undefined && !this.#compensationHandlers.has(def.compensationAction)) {
        throw new ServiceError(
          ServiceErrorCode.BAD_REQUEST,
          `startSaga: step '${def.id}' names compensation '${def.compensationAction}', which has no registered compensation handler`,
          undefined,
          { retryable: false, metadata: { step: def.id, compensationAction: def.compensationAction } },
        );
      }
    }
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
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'startSaga: sagaId must be a non-empty string',
        undefined,
        {
          retryable: false,
        },
      );
    }
    const now = this.#clock.now();
    const record: SagaRecord = {
      id: options.sagaId ?? randomUUID(),
      type,
      status: 'running',
      // A copy through JSON: handlers see exactly what a recovering process would read back.
      context: deepFreeze(JSON.parse(JSON.stringify(context)) as JsonValue),
      steps: defs,
      stepStates: Object.fromEntries(
        defs.map((d) => [d.id, { status: 'pending', attempts: 0 } satisfies StepState]),
      ),
      completionOrder: [],
      startedAt: now,
      updatedAt: now,
    };
    if (correlationId !== undefined) record.correlationId = correlationId;
    if (this.#active.has(record.id)) throw this.#conflict(record.id);
    const run = this.#newRun(record);
    // Reserve the slot before the first await so concurrent starts cannot overshoot the limit.
    this.#active.set(record.id, run);
    const roots = this.#markReady(record);
    try {
      await this.#init();
      if (!(await this.#store.write({ record, owner: this.id, leaseMs: this.#opts.leaseMs, create: true }))) {
        throw this.#conflict(record.id);
      }
    } catch (error) {
      this.#active.delete(record.id);
      throw ServiceError.from(error);
    }
    run.persisted = true;
    this.#totals.started++;
    this.#emitter.emit('saga:started', { sagaId: record.id, type, correlationId });
    void this.#drive(run, roots);
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
    return this.#history.find((s) => s.id === sagaId);
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
    return [...this.#history];
  }

  /** Resolves with the saga's final state once this orchestrator finished it. */
  waitForSaga(sagaId: string): Promise<SagaInstance> {
    const run = this.#active.get(sagaId);
    if (run) return run.done;
    const finished = this.#history.find((s) => s.id === sagaId);
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
    const claimed = await this.#store.claim(this.id, this.#opts.leaseMs, room);
    for (const record of claimed) {
      deepFreeze(record.context);
      for (const state of Object.values(record.stepStates)) deepFreeze(state.result);
      const run = this.#newRun(record);
      run.persisted = true;
      this.#active.set(record.id, run);
      this.#totals.recovered++;
      const interrupted = Object.entries(record.stepStates)
        .filter(([, s]) => s.status === 'running' || s.status === 'compensating')
        .map(([id]) => id);
      this.#emitter.emit('saga:recovered', {
        sagaId: record.id,
        type: record.type,
        status: record.status,
        interruptedSteps: interrupted,
      });
      this.#logger.info('saga recovered', { sagaId: record.id, status: record.status, interrupted });
      void this.#drive(run, []);
    }
    return claimed.map((r) => r.id);
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
      store.error = ServiceError.from(error).message;
    }
    store.latencyMs = this.#clock.now() - started;
    return {
      healthy: store.healthy && !this.#closed,
      orchestratorId: this.id,
      activeSagas: this.#active.size,
      maxActiveSagas: this.#opts.maxActiveSagas,
      store,
      totals: { ...this.#totals },
    };
  }

  /**
   * Stops timers and new starts, waits up to `drainTimeoutMs` (default 5 s) for active sagas to
   * finish, then lets go of the rest: their leases are released so another orchestrator resumes
   * them at once. Closes the store only if the orchestrator created it.
   */
  async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#clock.clearTimeout(this.#heartbeat);
    this.#clock.clearTimeout(this.#recoveryTimer);
    await this.#recovering?.catch(() => undefined);
    const pending = [...this.#active.values()].map((r) => r.done.catch(() => undefined));
    if (pending.length > 0) {
      let timer: unknown;
      await Promise.race([
        Promise.all(pending),
        new Promise<void>((resolve) => {
          timer = this.#clock.setTimeout(resolve, options.drainTimeoutMs ?? 5_000, true);
        }),
      ]);
      this.#clock.clearTimeout(timer);
    }
    const left = [...this.#active.values()];
    for (const run of left) this.#suspend(run, new Suspended('closed'));
    await Promise.all(left.map((r) => r.done.catch(() => undefined)));
    if (left.length > 0) {
      await this.#store
        .release(
          this.id,
          left.map((r) => r.record.id),
        )
        .catch((error: unknown) => {
          this.#logger.warn('could not release saga leases', { error: ServiceError.from(error).message });
        });
    }
    this.#emitter.removeAllListeners();
    if (this.#ownsStore) await this.#store.close();
  }

  // ---------------------------------------------------------------------------------------

  /** Initialises the store once; a failed attempt (database down at boot) is retried next call. */
  #init(): Promise<void> {
    this.#ready ??= this.#store.init().catch((error: unknown) => {
      this.#ready = undefined;
      throw error;
    });
    return this.#ready;
  }

  #newRun(record: SagaRecord): Run {
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

  /** Marks pending steps whose dependencies completed as running; returns their ids. */
  #markReady(record: SagaRecord): string[] {
    const ready: string[] = [];
    const now = this.#clock.now();
    for (const def of record.steps) {
      const state = record.stepStates[def.id]!;
      if (state.status !== 'pending') continue;
      if (!(def.dependencies ?? []).every((d) => record.stepStates[d]?.status === 'completed')) continue;
      state.status = 'running';
      state.attempts++;
      state.startedAt = now;
      ready.push(def.id);
    }
    return ready;
  }

  async #persist(run: Run): Promise<void> {
    if (run.suspended) throw run.suspended;
    run.record.updatedAt = this.#clock.now();
    let ok: boolean;
    try {
      ok = await this.#store.write({
        record: run.record,
        owner: this.id,
        leaseMs: this.#opts.leaseMs,
        create: false,
      });
    } catch (error) {
      throw new Suspended('store-error', ServiceError.from(error));
    }
    if (run.suspended) throw run.suspended;
    if (!ok) throw new Suspended('lease-lost');
  }

  #suspend(run: Run, reason: Suspended): void {
    if (run.suspended) return;
    run.suspended = reason;
    run.steps.abort(new ServiceError(ServiceErrorCode.CANCELLED, `Saga suspended: ${reason.reason}`));
    run.compensations.abort(new ServiceError(ServiceErrorCode.CANCELLED, `Saga suspended: ${reason.reason}`));
  }

  async #drive(run: Run, started: string[]): Promise<void> {
    const { record } = run;
    try {
      if (record.status === 'running') {
        const failed = await this.#forward(run, started);
        if (failed !== undefined) {
          this.#emitter.emit('saga:compensating', {
            sagaId: record.id,
            type: record.type,
            error: failed.error,
            failedStep: failed.step,
          });
        }
      }
      if (record.status === 'compensating') await this.#compensate(run);
      this.#finish(run);
    } catch (error) {
      const suspended =
        error instanceof Suspended ? error : new Suspended('store-error', ServiceError.from(error));
      this.#suspend(run, suspended);
      this.#active.delete(record.id);
      this.#totals.suspended++;
      const payload: SagaOrchestratorEvents['saga:suspended'] = {
        sagaId: record.id,
        type: record.type,
        reason: suspended.reason,
      };
      if (suspended.error) payload.error = suspended.error;
      this.#logger.warn('saga suspended', {
        sagaId: record.id,
        reason: suspended.reason,
        error: suspended.error?.message,
      });
      this.#emitter.emit('saga:suspended', payload);
      run.settle(
        new ServiceError(
          ServiceErrorCode.CONFLICT,
          `Saga '${record.id}' was suspended (${suspended.reason}); it resumes wherever it is claimed next`,
          undefined,
          { retryable: true, cause: suspended.error, metadata: { reason: suspended.reason } },
        ),
      );
    }
  }

  /**
   * Runs the DAG forward. Every outcome is written as soon as it is known, together with the
   * steps it makes ready (write-ahead: before they start), so a chain of n steps costs n + 1
   * writes; outcomes that arrive while a write is in flight share the next one.
   * Returns the failure when the saga must compensate (status then `compensating`, not yet
   * written: the first compensation write carries it).
   */
  async #forward(
    run: Run,
    started: string[],
  ): Promise<{ error: ServiceError; step: string | undefined } | undefined> {
    const { record } = run;
    const running = new Set<string>();
    // Outcomes arrive here; everything settled while a write was in flight is handled at once.
    const settled: Outcome[] = [];
    let wake: (() => void) | undefined;
    let failure: { error: ServiceError; step: string | undefined } | undefined;
    const launch = (ids: string[]): void => {
      for (const id of ids) {
        const state = record.stepStates[id]!;
        const def = record.steps.find((s) => s.id === id)!;
        this.#emitter.emit('step:started', {
          sagaId: record.id,
          stepId: id,
          action: def.action,
          execution: state.attempts,
          idempotencyKey: `${record.id}:${id}`,
        });
        running.add(id);
        void this.#execute(run, def, state).then((outcome) => {
          settled.push(outcome);
          wake?.();
        });
      }
    };

    const failedBefore = Object.entries(record.stepStates).find(([, s]) => s.status === 'failed');
    const interrupted = record.steps.filter((d) => record.stepStates[d.id]!.status === 'running');
    const recovered = started.length === 0;
    if (failedBefore !== undefined || (recovered && this.#opts.recoveryPolicy === 'compensate')) {
      // Recovered after a failure (or by policy): steps left running may have run; undo them too.
      for (const def of interrupted) this.#interrupt(record.stepStates[def.id]!);
      const step = failedBefore?.[0] ?? interrupted[0]?.id;
      const stored = failedBefore?.[1].error;
      failure = {
        step,
        error: stored
          ? fromStored(stored)
          : new ServiceError(
              ServiceErrorCode.INTERNAL_ERROR,
              'Saga interrupted by a crash and compensated by policy',
            ),
      };
      record.error ??= toStored(failure.error, step);
      record.status = 'compensating';
      return failure;
    }
    if (!recovered) launch(started);
    else {
      // Recovered: steps left running may have run; run them again under the same key.
      for (const def of interrupted) record.stepStates[def.id]!.attempts++;
      launch(interrupted.map((d) => d.id));
    }

    // Whether the record changed since it was last written (the start already wrote the roots).
    let dirty = false;
    for (;;) {
      if (failure === undefined && run.cancelError !== undefined) {
        failure = { error: run.cancelError, step: undefined };
      }
      if (failure === undefined) {
        const ready = this.#markReady(record);
        if (running.size === 0 && ready.length === 0) {
          record.status = 'completed';
          record.completedAt = this.#clock.now();
        }
        // One write: the outcomes since the last one, and the steps about to start.
        if (dirty || ready.length > 0 || record.status === 'completed') await this.#persist(run);
        dirty = false;
        if (record.status === 'completed') return undefined;
        launch(ready);
      } else if (running.size === 0) {
        // Not written here: the first compensation write carries it.
        record.status = 'compensating';
        record.error ??= toStored(failure.error, failure.step);
        return failure;
      } else if (dirty) {
        await this.#persist(run);
        dirty = false;
      }
      if (settled.length === 0) {
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
        wake = undefined;
      }
      if (run.suspended) throw run.suspended;
      dirty = true;
      for (const outcome of settled.splice(0)) {
        running.delete(outcome.id);
        const state = record.stepStates[outcome.id]!;
        state.completedAt = this.#clock.now();
        if (outcome.ok) {
          state.status = 'completed';
          state.result = deepFreeze(outcome.result!);
          record.completionOrder.push(outcome.id);
          this.#emitter.emit('step:completed', {
            sagaId: record.id,
            stepId: outcome.id,
            durationMs: outcome.durationMs,
          });
          continue;
        }
        state.status = 'failed';
        state.error = toStored(outcome.error!);
        this.#emitter.emit('step:failed', { sagaId: record.id, stepId: outcome.id, error: outcome.error! });
        if (failure === undefined) {
          failure = { error: outcome.error!, step: outcome.id };
          // Siblings stop: their results would only be undone.
          run.steps.abort(
            new ServiceError(
              ServiceErrorCode.CANCELLED,
              `Step '${outcome.id}' failed; saga is compensating`,
              undefined,
              {
                retryable: false,
              },
            ),
          );
        }
      }
    }
  }

  #interrupt(state: StepState): void {
    state.status = 'failed';
    state.interrupted = true;
    state.error = {
      code: ServiceErrorCode.INTERNAL_ERROR,
      message: 'Interrupted: the orchestrator running the step stopped before its outcome was recorded',
      retryable: false,
    };
  }

  async #execute(run: Run, def: SagaStepDefinition, state: StepState): Promise<Outcome> {
    const { record } = run;
    const started = this.#clock.now();
    try {
      const handler = this.#stepHandlers.get(def.action);
      if (handler === undefined) {
        throw new ServiceError(
          ServiceErrorCode.NOT_IMPLEMENTED,
          `No step handler registered for action '${def.action}'`,
          def.service,
          { retryable: false },
        );
      }
      const results = completedResults(record);
      const value = await runAttempts(
        (signal, attempt) => {
          if (attempt > 1)
            this.#emitter.emit('step:retrying', { sagaId: record.id, stepId: def.id, attempt });
          return handler(def, record.context, stepExecution(record, def, state, attempt, signal, results));
        },
        {
          timeoutMs: def.timeout ?? this.#opts.defaultStepTimeoutMs,
          retry: this.#retryFor(def.retryAttempts ?? 0),
          signal: run.steps.signal,
          clock: this.#clock,
          label: `Saga '${record.type}' step '${def.id}'`,
          service: def.service,
        },
      );
      const result = value === undefined ? null : value;
      assertJson(result, `Saga '${record.type}' step '${def.id}' returned a result that`, {
        sagaId: record.id,
        step: def.id,
      });
      return { id: def.id, ok: true, result, durationMs: this.#clock.now() - started };
    } catch (error) {
      return {
        id: def.id,
        ok: false,
        error: ServiceError.from(error, def.service),
        durationMs: this.#clock.now() - started,
      };
    }
  }

  #retryFor(retries: number): RetryLike | undefined {
    if (!this.#retries.has(retries)) this.#retries.set(retries, retryAttemptsPolicy(retries, this.#clock));
    return this.#retries.get(retries);
  }

  /** Undoes, in reverse completion order, what may have happened; one write per compensation. */
  async #compensate(run: Run): Promise<void> {
    const { record } = run;
    const completed = new Set(record.completionOrder);
    const undoFirst = record.steps.filter((d) => {
      const s = record.stepStates[d.id]!;
      if (completed.has(d.id)) return false;
      return (
        (s.status === 'failed' && (d.compensateOnFailure || s.interrupted)) || s.status === 'compensating'
      );
    });
    const order = [
      ...undoFirst,
      ...[...record.completionOrder].reverse().map((id) => record.steps.find((d) => d.id === id)!),
    ].filter((d) => {
      const s = record.stepStates[d.id]!;
      return (
        d.compensationAction !== undefined &&
        (s.status === 'completed' || s.status === 'compensating' || s.status === 'failed')
      );
    });
    const retry = this.#opts.compensationRetry ?? defaultCompensationRetry(this.#clock);
    const results = completedResults(record);
    for (const def of order) {
      const state = record.stepStates[def.id]!;
      const failed = state.status === 'failed' || (state.status === 'compensating' && !completed.has(def.id));
      state.status = 'compensating';
      await this.#persist(run);
      this.#emitter.emit('compensation:started', {
        sagaId: record.id,
        stepId: def.id,
        action: def.compensationAction!,
      });
      try {
        const handler = this.#compensationHandlers.get(def.compensationAction!);
        if (handler === undefined) {
          throw new ServiceError(
            ServiceErrorCode.NOT_IMPLEMENTED,
            `No compensation handler registered for '${def.compensationAction}'`,
            def.service,
            { retryable: false },
          );
        }
        await runAttempts(
          (signal, attempt) =>
            handler(def, record.context, {
              ...stepExecution(record, def, state, attempt, signal, results),
              result: failed ? undefined : state.result,
              failed,
            }),
          {
            timeoutMs: def.timeout ?? this.#opts.defaultStepTimeoutMs,
            retry,
            signal: run.compensations.signal,
            clock: this.#clock,
            label: `Compensation of saga '${record.type}' step '${def.id}'`,
            service: def.service,
          },
        );
        if (run.suspended) throw run.suspended;
        state.status = 'compensated';
        this.#emitter.emit('compensation:completed', { sagaId: record.id, stepId: def.id });
      } catch (error) {
        if (run.suspended) throw run.suspended;
        const e = ServiceError.from(error, def.service);
        state.status = 'compensation_failed';
        state.compensationError = toStored(e);
        this.#logger.error('saga compensation failed', {
          sagaId: record.id,
          step: def.id,
          message: e.message,
        });
        this.#emitter.emit('compensation:failed', { sagaId: record.id, stepId: def.id, error: e });
      }
    }
    const anyFailed = Object.values(record.stepStates).some((s) => s.status === 'compensation_failed');
    record.status = anyFailed ? 'failed' : 'compensated';
    record.completedAt = this.#clock.now();
    await this.#persist(run);
  }

  #finish(run: Run): void {
    const { record } = run;
    this.#active.delete(record.id);
    const instance = toInstance(record, true);
    if (this.#opts.historyLimit > 0) {
      this.#history.push(instance);
      if (this.#history.length > this.#opts.historyLimit) this.#history.shift();
    }
    const durationMs = (record.completedAt ?? this.#clock.now()) - record.startedAt;
    if (record.status === 'completed') {
      this.#totals.completed++;
      this.#emitter.emit('saga:completed', { sagaId: record.id, type: record.type, durationMs });
    } else if (record.status === 'compensated') {
      this.#totals.compensated++;
      this.#emitter.emit('saga:compensated', { sagaId: record.id, type: record.type, durationMs });
    } else {
      this.#totals.failed++;
      this.#emitter.emit('saga:failed', {
        sagaId: record.id,
        type: record.type,
        compensationErrors: instance.compensationErrors,
      });
    }
    run.settle(instance);
  }

  #scheduleHeartbeat(): void {
    const every = Math.max(50, Math.floor(this.#opts.leaseMs / 3));
    this.#heartbeat = this.#clock.setTimeout(
      () => {
        void this.#renewLeases().finally(() => {
          if (!this.#closed) this.#scheduleHeartbeat();
        });
      },
      every,
      true,
    );
  }

  async #renewLeases(): Promise<void> {
    const ids = [...this.#active.values()].filter((r) => r.persisted && !r.suspended).map((r) => r.record.id);
    if (ids.length === 0) return;
    try {
      const held = new Set(await this.#store.renew(this.id, ids, this.#opts.leaseMs));
      for (const id of ids) {
        const run = this.#active.get(id);
        // A saga that finished meanwhile is no longer active in the store: not a lost lease.
        if (run && !held.has(id) && ACTIVE.has(run.record.status) && this.#active.has(id)) {
          const stored = await this.#store.load(id);
          if (stored && ACTIVE.has(stored.status)) this.#suspend(run, new Suspended('lease-lost'));
        }
      }
    } catch (error) {
      this.#logger.warn('saga lease renewal failed', { error: ServiceError.from(error).message });
    }
  }

  #scheduleRecovery(): void {
    this.#recoveryTimer = this.#clock.setTimeout(
      () => {
        void this.recover()
          .catch((error: unknown) => {
            this.#logger.warn('saga recovery failed', { error: ServiceError.from(error).message });
          })
          .finally(() => {
            if (!this.#closed) this.#scheduleRecovery();
          });
      },
      this.#opts.recoveryIntervalMs,
      true,
    );
  }
}

/** What a step's handler (and, with more, its compensation's) is told on one attempt. */
function stepExecution(
  record: SagaRecord,
  def: SagaStepDefinition,
  state: StepState,
  attempt: number,
  signal: AbortSignal,
  results: Readonly<Record<string, JsonValue>>,
): StepExecution {
  return {
    sagaId: record.id,
    stepId: def.id,
    idempotencyKey: `${record.id}:${def.id}`,
    attempt,
    execution: state.attempts,
    signal,
    results,
    correlationId: record.correlationId,
  };
}

function completedResults(record: SagaRecord): Record<string, JsonValue> {
  const results: Record<string, JsonValue> = {};
  for (const id of record.completionOrder) {
    const result = record.stepStates[id]?.result;
    if (result !== undefined) results[id] = result;
  }
  return results;
}

function toStored(error: ServiceError, step?: string): StoredError {
  const stored: StoredError = { code: error.code, message: error.message, retryable: error.retryable };
  if (error.service !== undefined) stored.service = error.service;
  if (step !== undefined) stored.step = step;
  return stored;
}

function fromStored(stored: StoredError): ServiceError {
  const code = isServiceErrorCode(stored.code) ? stored.code : ServiceErrorCode.INTERNAL_ERROR;
  return new ServiceError(code, stored.message, stored.service, {
    retryable: stored.retryable,
    metadata: stored.step === undefined ? undefined : { step: stored.step },
  });
}

/** A view of `record`; copies what may still change unless the saga is `final`. */
function toInstance(record: SagaRecord, final = false): SagaInstance {
  const stepResults = new Map<string, JsonValue>();
  const compensationErrors: CompensationFailure[] = [];
  for (const [id, state] of Object.entries(record.stepStates)) {
    if (state.result !== undefined && record.completionOrder.includes(id)) stepResults.set(id, state.result);
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
    stepStates: final ? record.stepStates : structuredClone(record.stepStates),
    completedSteps: [...record.completionOrder],
    startedAt: new Date(record.startedAt),
    completedAt: record.completedAt === undefined ? undefined : new Date(record.completedAt),
    error: record.error && fromStored(record.error),
    compensationErrors,
    cancelReason: record.cancelReason,
  };
}
