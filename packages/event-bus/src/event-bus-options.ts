import {
  clockOption,
  durationMs,
  intAtLeast,
  loggerOption,
  nonEmptyString,
  objectOption,
  randomOption,
} from '@clone/internal';
import type { Clock, Logger } from '@clone/service-errors';
import { z } from 'zod';
import type { EventDefinition } from './define-event';
import type { Inbox } from './inbox';
import type { EventTransport } from './transport';

/** Options of {@link createEventBus}. Only `serviceName` is required. */
export interface EventBusOptions {
  /** The publishing service (the envelope's `source`) and the prefix of its queue names. */
  serviceName: string;
  /** `amqp://…` of a RabbitMQ broker; without it (and without `RABBITMQ_URL`) the bus is in-memory. */
  url?: string | undefined;
  /** The durable topic exchange events are published to (default `events`). */
  exchange?: string | undefined;
  /** Event types declared with `defineEvent`: their data is validated, and other types are refused. */
  events?: readonly EventDefinition[] | undefined;
  logger?: Logger | undefined;
  clock?: Clock | undefined;
  /** Randomness for reconnect jitter, in [0, 1). */
  random?: (() => number) | undefined;
  /** Where handled event ids are remembered (default: the last `inboxCapacity` in memory). */
  inbox?: Inbox | undefined;
  /** Capacity of the default in-memory inbox (default 10 000). */
  inboxCapacity?: number | undefined;
  /** Default retries of a subscription after a handler failure (default 3; `EVENT_BUS_MAX_RETRIES`). */
  retryAttempts?: number | undefined;
  /** Default first retry delay of a subscription, ms (default 1000; `EVENT_BUS_RETRY_DELAY`). */
  retryDelayMs?: number | undefined;
  /** Most subscriptions one bus takes (default 100; `EVENT_BUS_MAX_LISTENERS`). */
  maxSubscriptions?: number | undefined;
  /** `healthCheck()` reports `degraded` at this many dead letters (default 100; `EVENT_BUS_DEAD_LETTER_THRESHOLD`). */
  deadLetterThreshold?: number | undefined;
  /** Publishes held while the broker is unreachable before new ones fail with SERVICE_UNAVAILABLE (default 10 000). */
  maxBufferedPublishes?: number | undefined;
  /** How long a publish may wait for the broker's confirm, buffered time included (default 30 000 ms). */
  publishTimeoutMs?: number | undefined;
  /** How long `close()` waits for in-flight handlers and confirms (default 10 000 ms). */
  closeTimeoutMs?: number | undefined;
  /**
   * How long connecting, declaring the topology and attaching the consumers may take before the
   * attempt is abandoned and retried (default 30 000 ms): a broker that never answers cannot wedge the bus.
   */
  setupTimeoutMs?: number | undefined;
  /** First reconnect delay (default 100 ms), doubled per failure up to `maxReconnectDelayMs` (default 10 000 ms). */
  reconnectDelayMs?: number | undefined;
  maxReconnectDelayMs?: number | undefined;
  /** AMQP heartbeat, seconds (default 10; 0 disables): how fast a silent dead connection is noticed. */
  heartbeatSeconds?: number | undefined;
  /** A transport of your own (tests, another broker); replaces the in-memory and RabbitMQ ones. */
  transport?: EventTransport | undefined;
}

const definitionOption = z.custom<EventDefinition>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as EventDefinition).type === 'string' &&
    typeof (v as EventDefinition).schema === 'object',
  { error: 'must be an event definition from defineEvent' },
);

/** The schema of {@link EventBusOptions}; defaults applied. */
export const eventBusOptionsSchema = z.strictObject({
  serviceName: nonEmptyString().max(100, { error: 'must be at most 100 characters' }),
  url: z.url({ protocol: /^amqps?$/, error: 'must be an amqp:// or amqps:// URL' }).optional(),
  exchange: nonEmptyString().max(200, { error: 'must be at most 200 characters' }).default('events'),
  events: z.array(definitionOption).default([]),
  logger: loggerOption<Logger>().optional(),
  clock: clockOption<Clock>().optional(),
  random: randomOption().optional(),
  inbox: objectOption<Inbox>(['has', 'add'], 'must be an Inbox ({ has, add })').optional(),
  inboxCapacity: intAtLeast(1).default(10_000),
  retryAttempts: intAtLeast(0, 100).default(3),
  retryDelayMs: durationMs().default(1000),
  maxSubscriptions: intAtLeast(1).default(100),
  deadLetterThreshold: intAtLeast(1).default(100),
  maxBufferedPublishes: intAtLeast(0).default(10_000),
  publishTimeoutMs: durationMs().default(30_000),
  closeTimeoutMs: durationMs().default(10_000),
  setupTimeoutMs: durationMs().default(30_000),
  reconnectDelayMs: durationMs().default(100),
  maxReconnectDelayMs: durationMs().default(10_000),
  heartbeatSeconds: intAtLeast(0, 3600).default(10),
  transport: objectOption<EventTransport>(
    ['connect', 'publish', 'consume', 'close', 'on'],
    'must be an EventTransport',
  ).optional(),
});

/** Options after parsing. */
export type ResolvedEventBusOptions = z.output<typeof eventBusOptionsSchema>;

/** What a broker transport needs from the bus options. */
export type TransportConfig = Pick<
  ResolvedEventBusOptions,
  | 'exchange'
  | 'serviceName'
  | 'maxBufferedPublishes'
  | 'publishTimeoutMs'
  | 'reconnectDelayMs'
  | 'maxReconnectDelayMs'
  | 'setupTimeoutMs'
  | 'heartbeatSeconds'
> & { url: string; clock: Clock; logger: Logger; random: () => number };
