import { EventBuilder, type EventBus, type EventEnvelope, MemoryInbox } from '@clone/event-bus';
import type {
  CompensationExecution,
  CompensationHandler,
  RemoteStepSource,
  SagaInstance,
  SagaStepDefinition,
  StepExecution,
  StepHandler,
} from '@clone/saga';
import { type Clock, Emitter, type Logger, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import {
  ANNOUNCE_TYPE,
  announceSchema,
  commandId,
  commandType,
  DISCOVER_TYPE,
  fromWireError,
  replySchema,
  replyType,
  type SagaCommand,
  type SagaReply,
} from './messages';
import type { ParticipantDirectory } from './participant-directory';

/** Events of the orchestrator's command channel (`orchestrator.commands.on(...)`). */
export interface CommandDispatcherEvents {
  'command:sent': {
    commandId: string;
    sagaId: string;
    stepId: string;
    service: string;
    kind: 'step' | 'compensation';
    /** A resend of a command still unanswered (a lost command or reply). */
    resend: boolean;
  };
  'reply:received': {
    commandId: string;
    sagaId: string;
    stepId: string;
    service: string;
    kind: 'step' | 'compensation';
    ok: boolean;
    /** The participant answered from its record of an earlier execution. */
    replayed: boolean;
    /** From the first send of this attempt to the reply. */
    roundTripMs: number;
  };
  /** A reply nobody waited for any more (the step timed out, was cancelled, or the orchestrator restarted). */
  'reply:late': { commandId: string; sagaId: string; stepId: string; service: string; ok: boolean };
  /** A late success of a step the saga had given up on was undone by its compensation. */
  'compensation:late': { sagaId: string; stepId: string; service: string; ok: boolean };
  'participant:announced': {
    service: string;
    instanceId: string;
    actions: string[];
    compensations: string[];
  };
}

/** Counters of the command channel. */
export interface CommandDispatcherStats {
  commandsSent: number;
  resends: number;
  replies: number;
  lateReplies: number;
  duplicateReplies: number;
  lateCompensations: number;
  /** Commands awaiting a reply now, by service: which services the running steps wait on. */
  waiting: Record<string, number>;
  /** Round trips measured (send to reply) and their total, ms. */
  roundTrip: { count: number; totalMs: number };
}

/** What the dispatcher needs of the orchestrator it serves. */
export interface DispatcherHost {
  readonly id: string;
  getSagaStatus(sagaId: string): SagaInstance | undefined;
  loadSaga(sagaId: string): Promise<SagaInstance | undefined>;
}

export interface CommandDispatcherConfig {
  bus: EventBus;
  service: string;
  directory: ParticipantDirectory;
  resendIntervalMs: number;
  maxOrphanResends: number;
  clock: Clock;
  logger: Logger;
}

interface Pending {
  command: SagaCommand;
  service: string;
  sentAt: number;
  waiter: { resolve(value: unknown): void; reject(error: ServiceError): void } | undefined;
  timer: unknown;
  /** Resends since nobody waits (a step that timed out): bounded, for a late answer to undo. */
  orphanResends: number;
}

/**
 * The orchestrator's side of distributed steps: the {@link RemoteStepSource} its handler
 * registry falls back to. A remote step's "handler" publishes a command to the step's service
 * and settles on the reply, so the saga engine runs it like a local one: the step's timeout
 * covers the round trip, its retries send the same command id again, and compensations are
 * commands too. Until answered, a command is resent every `resendIntervalMs` (a lost command or
 * reply costs an interval, not the step); the participant answers a resend from its record.
 */
export class CommandDispatcher implements RemoteStepSource {
  readonly events = new Emitter<CommandDispatcherEvents>();
  readonly #config: CommandDispatcherConfig;
  readonly #pending = new Map<string, Pending>();
  /** Commands answered recently: a duplicate reply to one of them is no late reply. */
  readonly #settled = new MemoryInbox(10_000);
  readonly #stats = {
    commandsSent: 0,
    resends: 0,
    replies: 0,
    lateReplies: 0,
    duplicateReplies: 0,
    lateCompensations: 0,
    roundTrip: { count: 0, totalMs: 0 },
  };
  #host: DispatcherHost | undefined;
  #stopped = false;

  constructor(config: CommandDispatcherConfig) {
    this.#config = config;
  }

  /** Binds the orchestrator (its id names the reply queue). */
  attach(host: DispatcherHost): void {
    this.#host = host;
  }

  /** Consumes this orchestrator's replies and the participants' announcements, and asks them to announce. */
  async start(): Promise<void> {
    const { bus, service } = this.#config;
    const id = this.#host!.id;
    await bus.subscribe(replyType(id), (event) => this.#onReply(event), {
      queue: `${service}.saga-replies.${id}`,
      concurrency: 64,
      prefetch: 256,
      retryAttempts: 3,
      retryDelayMs: 100,
    });
    await bus.subscribe(ANNOUNCE_TYPE, (event) => this.#onAnnounce(event), {
      queue: `${service}.saga-directory.${id}`,
      retryAttempts: 0,
    });
    await bus.publish(EventBuilder.create(DISCOVER_TYPE, { data: { orchestratorId: id } }, service));
  }

  assertServes(def: SagaStepDefinition, kind: 'step' | 'compensation'): void {
    this.#config.directory.assertServes(def, kind, this.#config.service);
  }

  stepHandler(def: SagaStepDefinition): StepHandler | undefined {
    if (def.service === this.#config.service) return undefined;
    return (step, context, execution) => this.#send('step', step, context, execution);
  }

  compensationHandler(def: SagaStepDefinition): CompensationHandler | undefined {
    if (def.service === this.#config.service) return undefined;
    return (step, context, execution) => this.#send('compensation', step, context, execution);
  }

  getStats(): CommandDispatcherStats {
    const waiting: Record<string, number> = Object.create(null);
    for (const p of this.#pending.values()) {
      if (p.waiter !== undefined) waiting[p.service] = (waiting[p.service] ?? 0) + 1;
    }
    return { ...this.#stats, roundTrip: { ...this.#stats.roundTrip }, waiting };
  }

  /** Stops resending and forgets every command (the orchestrator has let go of its sagas). */
  stop(): void {
    this.#stopped = true;
    for (const p of this.#pending.values()) this.#config.clock.clearTimeout(p.timer);
    this.#pending.clear();
    this.events.removeAllListeners();
  }

  #send(
    kind: 'step' | 'compensation',
    def: SagaStepDefinition,
    context: unknown,
    execution: StepExecution | CompensationExecution,
  ): Promise<unknown> {
    const { signal } = execution;
    if (signal.aborted) return Promise.reject(ServiceError.from(signal.reason, def.service));
    const id = commandId(execution.sagaId, def.id, kind === 'compensation');
    const command: SagaCommand = {
      commandId: id,
      kind,
      sagaId: execution.sagaId,
      sagaType: execution.sagaType,
      stepId: def.id,
      replyTo: this.#host!.id,
      step: def,
      context: context as SagaCommand['context'],
      attempt: execution.attempt,
      execution: execution.execution,
      results: { ...execution.results },
    };
    if (execution.correlationId !== undefined) command.correlationId = execution.correlationId;
    if ('failed' in execution) {
      command.failed = execution.failed;
      if (execution.result !== undefined) command.result = execution.result;
    }
    return new Promise<unknown>((resolve, reject) => {
      const waiter = { resolve, reject };
      const entry = this.#track(id, command, def.service);
      entry.waiter = waiter;
      const onAbort = (): void => {
        if (entry.waiter !== waiter) return;
        // Nobody waits now, but the step may still run: keep resending a while, so a late
        // success is heard and undone (see #onReply).
        entry.waiter = undefined;
        reject(ServiceError.from(signal.reason, def.service));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      this.#publish(entry, false).catch((error: unknown) => {
        if (entry.waiter !== waiter) return;
        entry.waiter = undefined;
        this.#drop(id);
        reject(
          new ServiceError(
            ServiceErrorCode.SERVICE_UNAVAILABLE,
            `Could not send the ${kind} command of step '${def.id}' to service '${def.service}'`,
            def.service,
            { retryable: true, cause: error },
          ),
        );
      });
    });
  }

  /** The entry of `id` (one per command id: a retry takes over the previous attempt's). */
  #track(id: string, command: SagaCommand, service: string): Pending {
    let entry = this.#pending.get(id);
    if (entry === undefined) {
      entry = { command, service, sentAt: 0, waiter: undefined, timer: undefined, orphanResends: 0 };
      this.#pending.set(id, entry);
    }
    entry.command = command;
    entry.sentAt = this.#config.clock.now();
    entry.orphanResends = 0;
    this.#arm(id, entry);
    return entry;
  }

  #arm(id: string, entry: Pending): void {
    const { clock, resendIntervalMs, maxOrphanResends } = this.#config;
    clock.clearTimeout(entry.timer);
    entry.timer = clock.setTimeout(
      () => {
        if (this.#pending.get(id) !== entry || this.#stopped) return;
        if (entry.waiter === undefined && ++entry.orphanResends > maxOrphanResends) {
          this.#drop(id);
          return;
        }
        this.#publish(entry, true).catch((error: unknown) => {
          this.#config.logger.warn('saga command resend failed; retried next interval', {
            commandId: id,
            error: ServiceError.from(error).message,
          });
        });
        this.#arm(id, entry);
      },
      resendIntervalMs,
      true,
    );
  }

  async #publish(entry: Pending, resend: boolean): Promise<void> {
    const { command } = entry;
    const { bus, service } = this.#config;
    if (resend) this.#stats.resends++;
    else this.#stats.commandsSent++;
    this.events.emit('command:sent', {
      commandId: command.commandId,
      sagaId: command.sagaId,
      stepId: command.stepId,
      service: entry.service,
      kind: command.kind,
      resend,
    });
    await bus.publish(
      EventBuilder.create(
        commandType(entry.service),
        { data: command, correlationId: command.correlationId ?? command.sagaId },
        service,
      ),
    );
  }

  #drop(id: string): void {
    const entry = this.#pending.get(id);
    if (entry === undefined) return;
    this.#config.clock.clearTimeout(entry.timer);
    this.#pending.delete(id);
  }

  #onAnnounce(event: EventEnvelope): void {
    const parsed = announceSchema.safeParse(event.data);
    if (!parsed.success) return;
    const a = parsed.data;
    if (this.#config.directory.add(a, this.#config.clock.now())) {
      this.events.emit('participant:announced', {
        service: a.service,
        instanceId: a.instanceId,
        actions: a.actions,
        compensations: a.compensations,
      });
    }
  }

  async #onReply(event: EventEnvelope): Promise<void> {
    const parsed = replySchema.safeParse(event.data);
    if (!parsed.success) {
      this.#config.logger.error('saga orchestrator dropped a malformed reply', { eventId: event.id });
      return;
    }
    const reply = parsed.data;
    const entry = this.#pending.get(reply.commandId);
    const waiter = entry?.waiter;
    if (entry !== undefined && waiter !== undefined) {
      entry.waiter = undefined;
      this.#drop(reply.commandId);
      this.#settled.add(reply.commandId);
      const roundTripMs = this.#config.clock.now() - entry.sentAt;
      this.#stats.replies++;
      this.#stats.roundTrip.count++;
      this.#stats.roundTrip.totalMs += roundTripMs;
      this.events.emit('reply:received', {
        commandId: reply.commandId,
        sagaId: reply.sagaId,
        stepId: reply.stepId,
        service: reply.service,
        kind: reply.kind,
        ok: reply.ok,
        replayed: reply.replayed,
        roundTripMs,
      });
      if (reply.ok) waiter.resolve(reply.result ?? null);
      else waiter.reject(fromWireError(reply.error ?? unknownError(), reply.service));
      return;
    }
    if (entry === undefined && this.#settled.has(reply.commandId)) {
      this.#stats.duplicateReplies++;
      return;
    }
    this.#drop(reply.commandId);
    // Once: the copies still on their way (resends, redeliveries) are duplicates of this one.
    this.#settled.add(reply.commandId);
    this.#stats.lateReplies++;
    this.events.emit('reply:late', {
      commandId: reply.commandId,
      sagaId: reply.sagaId,
      stepId: reply.stepId,
      service: reply.service,
      ok: reply.ok,
    });
    if (reply.ok && reply.kind === 'step') await this.#undoLate(reply);
  }

  /**
   * A step reported done after the saga gave up on it (timeout, cancel, a sibling's failure):
   * its side effects happened and the saga will not undo a step it recorded failed, so its
   * compensation is sent here. A step still recorded running is left alone: a retry or a
   * recovery sends its command again and gets this same answer from the participant.
   */
  async #undoLate(reply: SagaReply): Promise<void> {
    const host = this.#host!;
    for (let check = 0; check < 3 && !this.#stopped; check++) {
      const saga = host.getSagaStatus(reply.sagaId) ?? (await host.loadSaga(reply.sagaId));
      const def = saga?.steps.find((d) => d.id === reply.stepId);
      const state = saga?.stepStates[reply.stepId];
      if (saga === undefined || def?.compensationAction === undefined || state === undefined) return;
      if (state.status === 'failed') {
        await this.#compensateLate(saga, def, reply);
        return;
      }
      if (state.status !== 'running' || this.#pending.get(reply.commandId)?.waiter !== undefined) return;
      // Running and nobody waiting: the timed-out attempt's failure is being recorded. Look again.
      await new Promise<void>((resolve) =>
        this.#config.clock.setTimeout(resolve, this.#config.resendIntervalMs, true),
      );
    }
  }

  async #compensateLate(saga: SagaInstance, def: SagaStepDefinition, reply: SagaReply): Promise<void> {
    this.#stats.lateCompensations++;
    const { clock } = this.#config;
    const timeoutMs = def.timeout ?? 30_000;
    let ok = false;
    for (let attempt = 1; attempt <= 5 && !ok && !this.#stopped; attempt++) {
      const controller = new AbortController();
      const signal = controller.signal;
      const timer = clock.setTimeout(
        () =>
          controller.abort(
            new ServiceError(
              ServiceErrorCode.TIMEOUT,
              `Late compensation of step '${def.id}' timed out`,
              def.service,
            ),
          ),
        timeoutMs,
        true,
      );
      try {
        await this.#send('compensation', def, saga.context, {
          sagaId: saga.id,
          sagaType: saga.type,
          stepId: def.id,
          idempotencyKey: commandId(saga.id, def.id, false),
          attempt,
          execution: saga.stepStates[def.id]?.attempts ?? 1,
          signal,
          results: Object.fromEntries(saga.stepResults),
          correlationId: saga.correlationId,
          result: reply.result ?? null,
          failed: false,
        });
        ok = true;
      } catch (error) {
        this.#config.logger.warn('compensation of a late step success failed', {
          sagaId: saga.id,
          step: def.id,
          attempt,
          error: ServiceError.from(error).message,
        });
      } finally {
        clock.clearTimeout(timer);
      }
    }
    this.events.emit('compensation:late', { sagaId: saga.id, stepId: def.id, service: def.service, ok });
  }
}

function unknownError(): NonNullable<SagaReply['error']> {
  return {
    code: ServiceErrorCode.INTERNAL_ERROR,
    message: 'The participant sent no error',
    retryable: false,
    plain: false,
  };
}
