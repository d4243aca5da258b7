import type { EventBus } from '@clone/event-bus';
import { durationMs, intAtLeast } from '@clone/internal';
import { SagaOrchestrator, type SagaOrchestratorOptions } from '@clone/saga';
import {
  type Clock,
  noopLogger,
  parseOptions,
  ServiceError,
  ServiceErrorCode,
  systemClock,
} from '@clone/service-errors';
import { z } from 'zod';
import { CommandDispatcher } from './command-dispatcher';
import { routingWordSchema } from './messages';
import { ParticipantDirectory, type ParticipantInfo } from './participant-directory';

const distributedSchema = z.strictObject({
  /** The bus commands leave by and replies arrive on. You close it, after the orchestrator. */
  bus: z.custom<EventBus>(
    (v) => typeof v === 'object' && v !== null && typeof (v as EventBus).subscribe === 'function',
    { error: 'must be an EventBus from createEventBus' },
  ),
  /** This orchestrator's own service: its steps need local handlers. Default: the bus's `serviceName`. */
  service: routingWordSchema.optional(),
  /** How often an unanswered command is sent again (same command id). */
  resendIntervalMs: durationMs(1).default(5_000),
  /** Resends after nobody waits any more (a timed-out step), to hear a late success and undo it. */
  maxOrphanResends: intAtLeast(0, 1000).default(3),
});

/** Options of {@link DistributedSagaOrchestrator}: the orchestrator's, plus the bus. */
export type DistributedSagaOrchestratorOptions = Omit<SagaOrchestratorOptions, 'remoteSteps'> &
  z.input<typeof distributedSchema>;

/**
 * A {@link SagaOrchestrator} whose steps may run in other services. A step whose action has a
 * local handler runs here, as always; a step of another service is sent as a command to that
 * service's participants (`SagaParticipant`) and completes or fails on their reply. Everything
 * else (the DAG, per-step timeout and retry, write-ahead state, reverse compensation,
 * `cancelSaga`, recovery after a crash) is the orchestrator's, unchanged.
 *
 * Call `start()` before `startSaga`: it attaches the reply queue and asks participants to
 * announce what they serve (`waitForParticipants` waits for them). Give each instance a stable
 * `orchestratorId` (a pod name): it names the instance's reply and directory queues.
 */
export class DistributedSagaOrchestrator extends SagaOrchestrator {
  /** The command channel: its events (`commands.events.on`) and `commands.getStats()`. */
  readonly commands: CommandDispatcher;
  /** This orchestrator's own service. */
  readonly service: string;
  readonly #directory: ParticipantDirectory;
  readonly #clock: Clock;
  #started: Promise<void> | undefined;

  constructor(options: DistributedSagaOrchestratorOptions) {
    const { bus, service, resendIntervalMs, maxOrphanResends, ...rest } = (options ??
      {}) as DistributedSagaOrchestratorOptions;
    if ('remoteSteps' in rest) {
      throw new ServiceError(
        ServiceErrorCode.BAD_REQUEST,
        'DistributedSagaOrchestrator: remoteSteps is set by the orchestrator itself',
        undefined,
        { retryable: false },
      );
    }
    const o = parseOptions(
      distributedSchema,
      {
        bus,
        service: service ?? (bus as EventBus | undefined)?.serviceName,
        resendIntervalMs,
        maxOrphanResends,
      },
      'DistributedSagaOrchestrator',
    );
    const directory = new ParticipantDirectory();
    const clock = rest.clock ?? systemClock;
    const dispatcher = new CommandDispatcher({
      bus: o.bus,
      service: o.service!,
      directory,
      resendIntervalMs: o.resendIntervalMs,
      maxOrphanResends: o.maxOrphanResends,
      clock,
      logger: rest.logger ?? noopLogger,
    });
    super({ ...rest, remoteSteps: dispatcher });
    parseOptions(
      z.strictObject({ orchestratorId: routingWordSchema }),
      { orchestratorId: this.id },
      'DistributedSagaOrchestrator',
    );
    this.commands = dispatcher;
    this.service = o.service!;
    this.#directory = directory;
    this.#clock = clock;
    dispatcher.attach(this);
  }

  /** Attaches the reply and directory queues and asks participants to announce. Idempotent. */
  start(): Promise<void> {
    this.#started ??= this.commands.start().catch((error: unknown) => {
      this.#started = undefined;
      throw error;
    });
    return this.#started;
  }

  /** The participants heard from, and what each serves. */
  participants(): ParticipantInfo[] {
    return this.#directory.list();
  }

  /**
   * Resolves once a participant of each service announced (and, when given, the actions);
   * rejects with TIMEOUT after `timeoutMs` (default 30 s).
   */
  async waitForParticipants(
    services: readonly string[] | Record<string, readonly string[]>,
    options: { timeoutMs?: number } = {},
  ): Promise<void> {
    const wanted: [string, readonly string[]][] = Array.isArray(services)
      ? services.map((s) => [s, []])
      : Object.entries(services);
    const { timeoutMs } = parseOptions(
      z.strictObject({ timeoutMs: durationMs(1).default(30_000) }),
      options,
      'waitForParticipants',
    );
    const ready = (): boolean =>
      wanted.every(
        ([service, actions]) =>
          this.#directory.has(service) && actions.every((a) => this.#directory.serves(service, a, false)),
      );
    const controller = new AbortController();
    const timer = this.#clock.setTimeout(
      () =>
        controller.abort(
          new ServiceError(
            ServiceErrorCode.TIMEOUT,
            `waitForParticipants: no announcement from ${
              wanted
                .map(([s]) => s)
                .filter((s) => !this.#directory.has(s))
                .join(', ') || 'the actions asked for'
            } in ${timeoutMs} ms`,
            undefined,
            { retryable: true },
          ),
        ),
      timeoutMs,
      true,
    );
    try {
      await this.start();
      await this.#directory.until(ready, controller.signal);
    } finally {
      this.#clock.clearTimeout(timer);
    }
  }

  /** Closes the orchestrator (see `SagaOrchestrator.close`), then stops resending commands. */
  override async close(options: { drainTimeoutMs?: number } = {}): Promise<void> {
    await super.close(options);
    this.commands.stop();
  }
}
