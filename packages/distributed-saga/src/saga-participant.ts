import { EventBuilder, type EventBus, type EventEnvelope } from '@clone/event-bus';
import { clockOption, durationMs, functionOption, intAtLeast, loggerOption, randomId } from '@clone/internal';
import {
  type CompensationExecution,
  type CompensationHandler,
  HandlerRegistry,
  type JsonValue,
  type StepHandler,
} from '@clone/saga';
import {
  type Clock,
  Emitter,
  type Logger,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
  type Unsubscribe,
} from '@clone/service-errors';
import { z } from 'zod';
import {
  ANNOUNCE_TYPE,
  commandId,
  commandSchema,
  commandType,
  DISCOVER_TYPE,
  replyType,
  routingWordSchema,
  type SagaCommand,
  type SagaReply,
  toWireError,
} from './messages';
import { MemoryParticipantStore, type ParticipantStore, type RecordedOutcome } from './participant-store';

const optionsSchema = z.strictObject({
  /** The bus commands arrive on and replies leave by. You close it, after the participant. */
  bus: z.custom<EventBus>(
    (v) => typeof v === 'object' && v !== null && typeof (v as EventBus).subscribe === 'function',
    { error: 'must be an EventBus from createEventBus' },
  ),
  /** The service whose steps this participant runs (steps name it in `service`). Default: the bus's `serviceName`. */
  service: routingWordSchema.optional(),
  /** Where outcomes are recorded. Default: in memory (repeated commands answered while the process lives). */
  store: z
    .custom<ParticipantStore>(
      (v) => typeof v === 'object' && v !== null && typeof (v as ParticipantStore).record === 'function',
      { error: 'must be a ParticipantStore' },
    )
    .optional(),
  /** Commands handled at once by this instance. */
  concurrency: intAtLeast(1, 10_000).default(16),
  /** How often the participant announces its actions again; 0 = on start, on registration and when asked. */
  announceIntervalMs: durationMs(0).default(30_000),
  /**
   * Redeliveries of a command whose handling failed for a reason of ours (store or broker
   * unreachable), not the handler's: its outcome is then sent by a later delivery.
   */
  redeliveryAttempts: intAtLeast(0, 100).default(20),
  redeliveryDelayMs: durationMs(1).default(200),
  /** How long `close()` waits for the commands in flight. */
  drainTimeoutMs: durationMs(0).default(5_000),
  /** Names this instance in announcements. Default: a random id. */
  instanceId: z.string().min(1).optional(),
  createId: functionOption<() => string>().optional(),
  clock: clockOption<Clock>().optional(),
  logger: loggerOption<Logger>().optional(),
});

/** Options of {@link SagaParticipant}. */
export type SagaParticipantOptions = z.input<typeof optionsSchema>;

/** How a command ended at this participant. */
export type CommandOutcome = 'succeeded' | 'failed' | 'retryable' | 'cancelled';

/** Events of {@link SagaParticipant}. */
export interface SagaParticipantEvents {
  'command:handled': {
    commandId: string;
    kind: 'step' | 'compensation';
    action: string;
    outcome: CommandOutcome;
    /** Answered from the recorded outcome (or an execution in flight) without running the handler. */
    replayed: boolean;
    durationMs: number;
  };
}

/** Counters of a participant since it started. */
export interface SagaParticipantStats {
  commands: number;
  executed: number;
  replayed: number;
  failed: number;
  inFlight: number;
}

interface Answer {
  ok: boolean;
  result?: JsonValue;
  error?: SagaReply['error'];
  replayed: boolean;
  outcome: CommandOutcome;
}

/**
 * Runs the saga steps of one service in that service's own process. Register handlers with the
 * same names and signatures as on an orchestrator; `start()` consumes the commands addressed to
 * the service (one durable queue shared by its instances), runs the handler, records the final
 * outcome and publishes the reply.
 *
 * Each command id is executed at most once to a recorded outcome: a command sent again (a retry
 * after a lost reply, an orchestrator recovering after a crash) is answered from the store,
 * and a duplicate arriving while the first runs waits for it. A success and a non-retryable
 * ServiceError are recorded; anything else (a plain Error, a retryable ServiceError) is not, so
 * the orchestrator's retry runs it again. A compensation that arrives before its step (or
 * instead of it) records the step `cancelled`: the step's command, if it comes late, is
 * refused without running.
 */
export class SagaParticipant {
  readonly service: string;
  readonly instanceId: string;
  readonly #bus: EventBus;
  readonly #store: ParticipantStore;
  readonly #ownsStore: boolean;
  readonly #opts: z.output<typeof optionsSchema>;
  readonly #clock: Clock;
  readonly #logger: Logger;
  readonly #handlers = new HandlerRegistry();
  readonly #emitter = new Emitter<SagaParticipantEvents>();
  readonly #inFlight = new Map<string, Promise<Answer>>();
  readonly #abort = new AbortController();
  readonly #stats = { commands: 0, executed: 0, replayed: 0, failed: 0 };
  #timer: unknown;
  #started: Promise<void> | undefined;
  #closed = false;

  constructor(options: SagaParticipantOptions) {
    this.#opts = parseOptions(optionsSchema, options, 'SagaParticipant');
    this.#bus = this.#opts.bus;
    this.service = parseOptions(
      z.strictObject({ service: routingWordSchema }),
      { service: this.#opts.service ?? this.#bus.serviceName },
      'SagaParticipant',
    ).service;
    this.instanceId = this.#opts.instanceId ?? randomId(this.#opts.createId);
    this.#clock = this.#opts.clock ?? systemClock;
    this.#logger = this.#opts.logger ?? noopLogger;
    this.#ownsStore = this.#opts.store === undefined;
    this.#store = this.#opts.store ?? new MemoryParticipantStore();
  }

  /** Registers the handler of `action`, as on an orchestrator. */
  registerStepHandler<C = any>(action: string, handler: StepHandler<C>): void {
    this.#handlers.registerStep(action, handler as StepHandler);
    this.#announceIfStarted();
  }

  /** Registers the compensation handler of `action`, as on an orchestrator. */
  registerCompensationHandler<C = any>(action: string, handler: CompensationHandler<C>): void {
    this.#handlers.registerCompensation(action, handler as CompensationHandler);
    this.#announceIfStarted();
  }

  /** Subscribes an event listener; returns the unsubscribe. */
  on<K extends keyof SagaParticipantEvents>(
    event: K,
    listener: (payload: SagaParticipantEvents[K]) => void,
  ): Unsubscribe {
    return this.#emitter.on(event, listener);
  }

  /**
   * Initialises the store, starts consuming commands, answers discovery requests and announces
   * the registered actions (then every `announceIntervalMs`). Idempotent.
   */
  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    await this.#store.init();
    const redelivery = {
      retryAttempts: this.#opts.redeliveryAttempts,
      retryDelayMs: this.#opts.redeliveryDelayMs,
      maxRetryDelayMs: 5_000,
    };
    await this.#bus.subscribe(commandType(this.service), (event) => this.#onCommand(event), {
      ...redelivery,
      queue: `${this.service}.saga-commands`,
      concurrency: this.#opts.concurrency,
      prefetch: this.#opts.concurrency * 2,
    });
    // One instance of the service answers for all: they serve the same actions.
    await this.#bus.subscribe(DISCOVER_TYPE, () => this.#announce(), {
      queue: `${this.service}.saga-discover`,
      retryAttempts: 3,
    });
    await this.#announce();
    if (this.#opts.announceIntervalMs > 0) this.#schedule();
  }

  /** Counters since start. */
  getStats(): SagaParticipantStats {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  /**
   * Stops announcing, aborts the handlers' signals and waits up to `drainTimeoutMs` for the
   * commands in flight (their replies still go out). Closes the store only if the participant created it. The bus is
   * yours: close it after, which stops the consumer; a command arriving in between is not
   * acknowledged and goes to another instance or comes back after a restart.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#abort.abort(new ServiceError(ServiceErrorCode.CANCELLED, 'SagaParticipant closed'));
    const drained = Promise.all([...this.#inFlight.values()].map((p) => p.catch(() => undefined)));
    let timer: unknown;
    await Promise.race([
      drained,
      new Promise<void>((resolve) => {
        timer = this.#clock.setTimeout(resolve, this.#opts.drainTimeoutMs, true);
      }),
    ]);
    this.#clock.clearTimeout(timer);
    if (this.#ownsStore) await this.#store.close();
  }

  #schedule(): void {
    this.#timer = this.#clock.setTimeout(
      () => {
        if (this.#closed) return;
        void this.#announce().finally(() => this.#schedule());
      },
      this.#opts.announceIntervalMs,
      true,
    );
  }

  #announceIfStarted(): void {
    if (this.#started !== undefined && !this.#closed) void this.#announce();
  }

  async #announce(): Promise<void> {
    const { steps, compensations } = this.#handlers.actions();
    try {
      await this.#bus.publish(
        EventBuilder.create(
          ANNOUNCE_TYPE,
          { data: { service: this.service, instanceId: this.instanceId, actions: steps, compensations } },
          this.service,
        ),
      );
    } catch (error) {
      this.#logger.warn('saga participant could not announce its actions', {
        service: this.service,
        error: ServiceError.from(error).message,
      });
    }
  }

  async #onCommand(event: EventEnvelope): Promise<void> {
    if (this.#closed) {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'SagaParticipant closed');
    }
    const parsed = commandSchema.safeParse(event.data);
    if (!parsed.success) {
      // Not ours to retry: a malformed command never becomes valid. Logged and acknowledged.
      this.#logger.error('saga participant dropped a malformed command', {
        eventId: event.id,
        issue: parsed.error.issues[0]?.message,
      });
      return;
    }
    const command = parsed.data;
    this.#stats.commands++;
    const started = this.#clock.now();
    const answer = await this.#answer(command);
    const reply: SagaReply = {
      commandId: command.commandId,
      kind: command.kind,
      sagaId: command.sagaId,
      stepId: command.stepId,
      service: this.service,
      ok: answer.ok,
      replayed: answer.replayed,
    };
    if (answer.result !== undefined) reply.result = answer.result;
    if (answer.error !== undefined) reply.error = answer.error;
    // A failed publish throws: the bus redelivers the command, answered then from the store.
    await this.#bus.publish(
      EventBuilder.create(
        replyType(command.replyTo),
        { data: reply, correlationId: event.correlationId },
        this.service,
      ),
    );
    this.#emitter.emit('command:handled', {
      commandId: command.commandId,
      kind: command.kind,
      action: command.kind === 'step' ? command.step.action : (command.step.compensationAction ?? ''),
      outcome: answer.outcome,
      replayed: answer.replayed,
      durationMs: this.#clock.now() - started,
    });
  }

  /** The answer to `command`: a duplicate in flight shares the first execution's. */
  async #answer(command: SagaCommand): Promise<Answer> {
    const running = this.#inFlight.get(command.commandId);
    if (running !== undefined) {
      this.#stats.replayed++;
      return { ...(await running), replayed: true };
    }
    const execution = this.#execute(command).finally(() => this.#inFlight.delete(command.commandId));
    this.#inFlight.set(command.commandId, execution);
    return execution;
  }

  async #execute(command: SagaCommand): Promise<Answer> {
    const recorded = await this.#store.get(command.commandId);
    if (recorded !== undefined) {
      this.#stats.replayed++;
      return answerOf(recorded, true);
    }
    if (command.kind === 'compensation') {
      // The step may still be running here: undo what it did, not what it is doing.
      const stepId = commandId(command.sagaId, command.stepId, false);
      await this.#inFlight.get(stepId)?.catch(() => undefined);
      // Unless the step has an outcome, none may come now: a late step command is refused.
      await this.#store.record(stepId, { status: 'cancelled' });
    }
    const def = command.step;
    const handler = command.kind === 'step' ? this.#handlers.step(def) : this.#handlers.compensation(def);
    if (handler === undefined) {
      // Not recorded: a deployment that registers the handler can still serve a later send.
      const name = command.kind === 'step' ? def.action : def.compensationAction;
      const error = new ServiceError(
        ServiceErrorCode.NOT_IMPLEMENTED,
        `Service '${this.service}' has no ${command.kind} handler for '${name}'`,
        this.service,
        { retryable: false },
      );
      this.#stats.failed++;
      return { ok: false, error: toWireError(error, error), replayed: false, outcome: 'failed' };
    }
    this.#stats.executed++;
    try {
      const value = await handler(def, command.context, this.#execution(command));
      const result = JSON.parse(JSON.stringify(value === undefined ? null : value)) as JsonValue;
      const stored = await this.#store.record(command.commandId, { status: 'succeeded', result });
      return answerOf(stored, stored.status !== 'succeeded' || stored.result !== result);
    } catch (thrown) {
      const error = ServiceError.from(thrown, this.service);
      const wire = toWireError(error, thrown);
      this.#stats.failed++;
      if (wire.plain || error.retryable)
        return { ok: false, error: wire, replayed: false, outcome: 'retryable' };
      const stored = await this.#store.record(command.commandId, { status: 'failed', error: wire });
      return answerOf(stored, stored.status !== 'failed' || stored.error !== wire);
    }
  }

  #execution(command: SagaCommand): CompensationExecution {
    return {
      sagaId: command.sagaId,
      sagaType: command.sagaType,
      stepId: command.stepId,
      idempotencyKey: commandId(command.sagaId, command.stepId, false),
      attempt: command.attempt,
      execution: command.execution,
      signal: this.#abort.signal,
      results: command.results,
      correlationId: command.correlationId,
      result: command.result,
      failed: command.failed ?? false,
    };
  }
}

function answerOf(recorded: RecordedOutcome, replayed: boolean): Answer {
  switch (recorded.status) {
    case 'succeeded':
      return { ok: true, result: recorded.result, replayed, outcome: 'succeeded' };
    case 'failed':
      return { ok: false, error: recorded.error, replayed, outcome: 'failed' };
    case 'cancelled':
      return {
        ok: false,
        replayed,
        outcome: 'cancelled',
        error: {
          code: ServiceErrorCode.CANCELLED,
          message: 'The step was compensated before it ran; it will not run',
          retryable: false,
          plain: false,
        },
      };
  }
}
