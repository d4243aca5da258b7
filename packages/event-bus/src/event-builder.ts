import { randomId } from '@clone/internal';
import { type Clock, systemClock } from '@clone/service-errors';
import { currentCorrelationId } from './correlation';
import type { EventEnvelope } from './event';

/** What an event is made of besides its type and source. */
export interface EventInput<T> {
  data: T;
  /** Defaults to the current correlation id (a gRPC call or handler being served), else the event id. */
  correlationId?: string | undefined;
  /** Defaults to 1. */
  version?: number | undefined;
  metadata?: Record<string, unknown> | undefined;
}

/** Where ids and time come from; injected in tests for repeatable envelopes. */
export interface EventBuilderDeps {
  clock?: Clock | undefined;
  newId?: (() => string) | undefined;
}

/**
 * Builds event envelopes. `EventBuilder.create(type, { data }, 'auth-service')` gives
 * `{ id, type, source, timestamp, correlationId, version, data }`; the bus validates it on publish.
 */
export class EventBuilder {
  readonly #clock: Clock;
  readonly #newId: (() => string) | undefined;

  constructor(deps: EventBuilderDeps = {}) {
    this.#clock = deps.clock ?? systemClock;
    this.#newId = deps.newId;
  }

  /** Builds an envelope with the system clock and random UUIDs. */
  static create<T, K extends string>(type: K, input: EventInput<T>, source: string): EventEnvelope<T, K> {
    return defaultBuilder.create(type, input, source);
  }

  /** Builds an envelope with this builder's clock and id source. */
  create<T, K extends string>(type: K, input: EventInput<T>, source: string): EventEnvelope<T, K> {
    const id = randomId(this.#newId);
    const event: EventEnvelope<T, K> = {
      id,
      type,
      source,
      timestamp: new Date(this.#clock.now()).toISOString(),
      correlationId: input.correlationId ?? currentCorrelationId() ?? id,
      version: input.version ?? 1,
      data: input.data,
      ...(input.metadata === undefined ? {} : { metadata: input.metadata }),
    };
    return event;
  }
}

const defaultBuilder = new EventBuilder();
