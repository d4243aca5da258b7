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
import { badRequest } from './bad-request';
import {
  type ContextPropagation,
  checkPropagationHook,
  hasPropagationHeaders,
  type PropagationHeaders,
  type PropagationSlot,
  withPropagationHeaders,
} from './context-propagation';
import type { DeadLetter } from './dead-letter';
import { type EventDefinition, type EventOf, parseEventData } from './define-event';
import { type EventEnvelope, envelopeSchema } from './event';
import type { ResolvedEventBusOptions } from './event-bus-options';
import { type ConsumerContext, createDeliveryHandler, type EventHandler } from './event-consumer';
import { type EventBusStats, EventStats } from './event-stats';
import { type Inbox, MemoryInbox } from './inbox';

import { resolveSubscription, type SubscribeOptions, type SubscriptionSpec } from './subscription';
import type { EventTransport } from './transport';

/** What a bus reports to its listeners. */
export interface EventBusEvents {
  /** The broker connection is up (again): topology declared, consumers attached. */
  connected: undefined;
  /** The broker connection was lost; the bus reconnects by itself. */
  disconnected: { error: Error | undefined };
  /** A failure outside any call (a lost connection, a failed reconnect). */
  error: Error;
}

/** The result of {@link EventBus.healthCheck}. */
export interface EventBusHealth {
  /** `unhealthy`: not connected; `degraded`: dead letters at or over the threshold. */
  status: 'healthy' | 'degraded' | 'unhealthy';
  connected: boolean;
  subscriptions: number;
  deadLetters: number;
  retryQueueSize: number;
  stats: EventBusStats;
}

/** The subscription form of the RabbitMQ client in the design documents. */
export interface SubscriptionRequest<E extends EventEnvelope = EventEnvelope> {
  eventType: string;
  handler: EventHandler<E>;
  queue?: string | undefined;
  /** Same as `retryAttempts`. */
  retries?: number | undefined;
  /** Same as `retryDelayMs`. */
  retryDelay?: number | undefined;
}

/**
 * Publishes and consumes typed events. `publish` resolves once the event is stored durably for
 * every subscriber queue (broker confirm); handlers run at least once, duplicates absorbed by an
 * inbox; failures are retried with backoff, then dead-lettered. Create it with `createEventBus`.
 */
export class EventBus {
  readonly serviceName: string;
  readonly #options: ResolvedEventBusOptions;
  readonly #transport: () => Promise<EventTransport>;
  readonly #events = new Emitter<EventBusEvents>();
  readonly #stats = new EventStats();
  readonly #catalog: Map<string, EventDefinition>;
  readonly #context: ConsumerContext;
  readonly #specs: SubscriptionSpec[] = [];
  // Shared with every consumer of this bus, so a hook installed later reaches them too.
  readonly #propagation: PropagationSlot = { current: undefined };
  #connected: Promise<EventTransport> | undefined;
  #current: EventTransport | undefined;
  #closed = false;

  /** @internal Use `createEventBus`. */
  constructor(options: ResolvedEventBusOptions, transport: () => Promise<EventTransport>) {
    this.#options = options;
    this.serviceName = options.serviceName;
    this.#transport = transport;
    this.#catalog = new Map(options.events.map((d) => [d.type, d]));
    const inbox: Inbox = options.inbox ?? new MemoryInbox(options.inboxCapacity);
    const clock: Clock = options.clock ?? systemClock;
    const logger: Logger = options.logger ?? noopLogger;
    this.#context = {
      catalog: this.#catalog,
      inbox,
      stats: this.#stats,
      clock,
      logger,
      propagation: this.#propagation,
    };
  }

  /** Connects to the broker (publish and subscribe connect on their own). */
  async connect(): Promise<void> {
    await (await this.#ready()).connect();
  }

  /** Whether the transport is connected now. */
  isConnected(): boolean {
    return this.#current?.isConnected() ?? false;
  }

  /** Listens to connection events; returns an unsubscribe. */
  on<K extends keyof EventBusEvents>(event: K, listener: (payload: EventBusEvents[K]) => void): Unsubscribe {
    return this.#events.on(event, listener);
  }

  /**
   * Checks an event as `publish` does, without publishing it: the envelope, that its type is
   * declared (when `events` were given), and its data against the type's schema. Throws
   * BAD_REQUEST naming the field; returns the envelope. The outbox checks events with it before
   * storing them, so a bad event fails inside the caller's transaction, not later in the relay.
   */
  validate(event: EventEnvelope): EventEnvelope {
    const checked = parseOptions(envelopeSchema, event, 'publish') as EventEnvelope;
    const definition = this.#catalog.get(checked.type);
    if (definition !== undefined) {
      parseEventData(definition, checked.data, `publish '${checked.type}'`);
    } else if (this.#catalog.size > 0) {
      throw badRequest(
        `publish: type '${checked.type}' is not a declared event (declare it with defineEvent and pass it in 'events')`,
        'type',
      );
    }
    return checked;
  }

  /**
   * Validates and publishes an event; resolves once the broker confirmed it. Rejects with
   * BAD_REQUEST (naming the field) for an invalid envelope, an undeclared type when `events` were
   * given, or data failing its schema: nothing is published then. Rejects with SERVICE_UNAVAILABLE
   * when the broker is unreachable and the publish buffer is full, TIMEOUT when no confirm came in
   * `publishTimeoutMs`; the event may then have been stored, and publishing it again is safe
   * (consumers deduplicate by id).
   */
  async publish(event: EventEnvelope): Promise<void> {
    const checked = this.validate(event);
    if (this.#propagation.current === undefined) return this.#send(checked, event);
    return this.propagate(event, (stamped) => this.#send(checked, stamped));
  }

  /**
   * Installs the context-propagation hook (one at a time: a new one replaces the last): each
   * publish asks it to write the current context's headers into the envelope's
   * `metadata.traceHeaders`, and each handler runs inside the context they carry. A hook that is
   * not one throws BAD_REQUEST naming `hook`. Returns its removal (a no-op once replaced).
   */
  useContextPropagation(hook: ContextPropagation): () => void {
    const checked = checkPropagationHook(hook);
    this.#propagation.current = checked;
    return () => {
      if (this.#propagation.current === checked) this.#propagation.current = undefined;
    };
  }

  /**
   * Runs `send` with `event` carrying the propagation headers of the current context, through
   * the hook. Without a hook, or for an event that already carries headers (an outbox row stamped
   * when it was added, a republished event), `send` gets the event as it is: its context is the
   * one where it was first published. @internal The outbox stamps events with it.
   */
  propagate<T>(event: EventEnvelope, send: (event: EventEnvelope) => Promise<T>): Promise<T> {
    const hook = this.#propagation.current;
    if (hook === undefined || hasPropagationHeaders(event)) return send(event);
    const headers: PropagationHeaders = {};
    return hook.publish(headers, event, () => send(withPropagationHeaders(event, headers)));
  }

  async #send(checked: EventEnvelope, event: EventEnvelope): Promise<void> {
    // Once connected, skip the wait on #ready(): it costs a turn of the event loop's microtasks.
    const transport = this.#current !== undefined && !this.#closed ? this.#current : await this.#ready();
    await transport.publish(checked.type, JSON.stringify(event), {
      'x-correlation-id': checked.correlationId,
      'x-event-id': checked.id,
      'x-source': checked.source,
    });
    this.#stats.publishedEvents++;
  }

  /**
   * Subscribes a handler to an event type (a definition gives it typed data), a topic pattern
   * (`sample.*` one word, `sample.#` any number, `#` everything), or the design document's
   * `{ eventType, handler, queue, retries, retryDelay }`. Bad input throws BAD_REQUEST at the call;
   * the promise resolves once the consumer is attached (it re-attaches after every reconnect).
   */
  subscribe<D extends EventDefinition>(
    event: D,
    handler: EventHandler<EventOf<D>>,
    options?: SubscribeOptions<EventOf<D>>,
  ): Promise<void>;
  subscribe<T = unknown>(
    pattern: string,
    handler: EventHandler<EventEnvelope<T>>,
    options?: SubscribeOptions<EventEnvelope<T>>,
  ): Promise<void>;
  subscribe(request: SubscriptionRequest): Promise<void>;
  subscribe(
    target: string | EventDefinition | SubscriptionRequest,
    handler?: EventHandler<never>,
    options?: SubscribeOptions<never>,
  ): Promise<void> {
    let pattern: unknown = target;
    let fn: unknown = handler;
    let opts: unknown = options;
    if (typeof target === 'object' && target !== null && 'schema' in target) pattern = target.type;
    else if (typeof target === 'object' && target !== null) {
      const { eventType, handler: h, queue, retries, retryDelay, ...rest } = target as SubscriptionRequest;
      pattern = eventType;
      fn = h;
      opts = { ...rest, queue, retryAttempts: retries, retryDelayMs: retryDelay };
    }
    if (typeof fn !== 'function') {
      throw badRequest('subscribe: handler must be a function', 'handler');
    }
    if (this.#closed) throw closedError();
    if (this.#specs.length >= this.#options.maxSubscriptions) {
      throw badRequest(
        `subscribe: this bus already has maxSubscriptions (${this.#options.maxSubscriptions}) subscriptions`,
        'maxSubscriptions',
      );
    }
    const spec = resolveSubscription(pattern, withoutUndefined(opts), {
      serviceName: this.serviceName,
      retryAttempts: this.#options.retryAttempts,
      retryDelayMs: this.#options.retryDelayMs,
    });
    this.#specs.push(spec);
    const deliver = createDeliveryHandler(spec, fn as EventHandler, this.#context);
    return this.#ready().then((transport) => transport.consume(spec, deliver));
  }

  /** Counters of this process since the bus was created. */
  getStats(): EventBusStats {
    return this.#stats.snapshot();
  }

  /** Connection, dead letters against `deadLetterThreshold`, retries waiting, and the stats. */
  async healthCheck(): Promise<EventBusHealth> {
    const connected = this.isConnected();
    const [deadLetters, retryQueueSize] = connected
      ? await Promise.all([this.getDeadLetterQueue().then((l) => l.length), this.getRetryQueueSize()])
      : [0, 0];
    const status = !connected
      ? 'unhealthy'
      : deadLetters >= this.#options.deadLetterThreshold
        ? 'degraded'
        : 'healthy';
    return {
      status,
      connected,
      subscriptions: this.#specs.length,
      deadLetters,
      retryQueueSize,
      stats: this.getStats(),
    };
  }

  /** The dead letters of this bus's subscription queues, with their errors (not removed). */
  async getDeadLetterQueue(): Promise<DeadLetter[]> {
    return (await this.#ready()).deadLetters(this.#queues());
  }

  /** Removes the dead letters of this bus's queues; resolves how many were removed. */
  async clearDeadLetterQueue(): Promise<number> {
    return (await this.#ready()).clearDeadLetters(this.#queues());
  }

  /** Puts dead letters (all, or the one with `eventId`) back on their queues, once the cause is fixed. */
  async replayDeadLetters(eventId?: string): Promise<number> {
    return (await this.#ready()).replayDeadLetters(this.#queues(), eventId);
  }

  /** Events of this bus's queues waiting for a retry. */
  async getRetryQueueSize(): Promise<number> {
    return (await this.#ready()).retryQueueSize(this.#queues());
  }

  /**
   * Stops consuming, waits up to `closeTimeoutMs` for running handlers (unfinished ones go back to
   * the broker for redelivery) and pending confirms, and closes the connection. Idempotent.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const connecting = this.#connected;
    if (connecting === undefined) return;
    const transport = await connecting.catch(() => undefined);
    await transport?.close(this.#options.closeTimeoutMs);
    this.#events.removeAllListeners();
  }

  #queues(): string[] {
    return [...new Set(this.#specs.map((s) => s.queue))];
  }

  /**
   * The transport, connecting in the background. Publishing and subscribing do not wait for the
   * connection (a publish is buffered, a consumer attached when it is up); a broker that is
   * unreachable is reported through the `error` event and retried.
   */
  #ready(): Promise<EventTransport> {
    if (this.#closed) return Promise.reject(closedError());
    if (this.#connected === undefined) {
      this.#connected = this.#transport().then((transport) => {
        this.#current = transport;
        transport.on('connected', () => this.#events.emit('connected', undefined));
        transport.on('disconnected', (e) => this.#events.emit('disconnected', e));
        transport.on('error', (e) => this.#events.emit('error', e));
        transport.connect().catch(() => {});
        return transport;
      });
    }
    return this.#connected;
  }
}

function closedError(): ServiceError {
  return new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'event bus is closed', undefined, {
    retryable: false,
  });
}

function withoutUndefined(options: unknown): unknown {
  if (typeof options !== 'object' || options === null) return options;
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined));
}
