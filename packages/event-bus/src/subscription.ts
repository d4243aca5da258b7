import { durationMs, functionOption, intAtLeast, nonEmptyString, numberAtLeast } from '@clone/internal';
import { backoffDelay, parseOptions } from '@clone/service-errors';
import { z } from 'zod';
import type { EventEnvelope } from './event';
import { assertTopicPattern, compileTopicPattern, type TopicMatcher } from './topic-pattern';

/** How urgent a subscription is: its handlers are served first when several match one event. */
export type SubscriptionPriority = 'low' | 'normal' | 'high' | 'urgent';

const PRIORITY_RANK: Record<SubscriptionPriority, number> = { low: 0, normal: 1, high: 2, urgent: 3 };

/** Options of one subscription. Defaults for retries come from the bus (and its environment). */
export interface SubscribeOptions<E extends EventEnvelope = EventEnvelope> {
  /**
   * The durable queue this subscription reads, default `<serviceName>.<pattern>`. Instances of
   * one service share it (each event handled by one of them); another service gets its own.
   */
  queue?: string | undefined;
  /** Retries after the first failure before the event is dead-lettered (0–100). */
  retryAttempts?: number | undefined;
  /** Delay before the first retry, in ms. */
  retryDelayMs?: number | undefined;
  /** Each further retry waits this many times longer (default 2). */
  retryMultiplier?: number | undefined;
  /** The longest retry delay, in ms (default 60 000). */
  maxRetryDelayMs?: number | undefined;
  /** Keep events that exhausted their retries in the dead letter queue (default true); false drops them, logged. */
  deadLetterQueue?: boolean | undefined;
  priority?: SubscriptionPriority | undefined;
  /** Handle only the events it returns true for; the others are acknowledged unhandled. */
  filter?: ((event: E) => boolean) | undefined;
  /** How many unacknowledged events the broker sends ahead (default 10, at least `concurrency`). */
  prefetch?: number | undefined;
  /** How many handlers of this subscription run at once (default 1). */
  concurrency?: number | undefined;
  /**
   * Deliveries of one message the broker allows before dead-lettering it (default 5): caps a
   * message that crashes its consumer process every time. Handler errors do not count (they retry).
   */
  deliveryLimit?: number | undefined;
}

/** The defaults a bus gives its subscriptions. */
export interface SubscriptionDefaults {
  serviceName: string;
  retryAttempts: number;
  retryDelayMs: number;
}

/** A subscription after validation: what transports and the consumer work with. */
export interface SubscriptionSpec {
  readonly pattern: string;
  readonly queue: string;
  readonly matches: TopicMatcher;
  /** The delay before retry n+1 after failure n: one entry per retry attempt. */
  readonly retryDelays: readonly number[];
  readonly deadLetter: boolean;
  readonly priority: number;
  readonly prefetch: number;
  readonly concurrency: number;
  readonly deliveryLimit: number;
  readonly filter: ((event: EventEnvelope) => boolean) | undefined;
}

const subscribeOptionsSchema = z.strictObject({
  queue: nonEmptyString()
    .max(200, { error: 'must be at most 200 characters (AMQP queue names are at most 255 bytes)' })
    .optional(),
  retryAttempts: intAtLeast(0, 100).optional(),
  retryDelayMs: durationMs().optional(),
  retryMultiplier: numberAtLeast(1, 100).default(2),
  maxRetryDelayMs: durationMs().default(60_000),
  deadLetterQueue: z.boolean({ error: 'must be a boolean' }).default(true),
  priority: z.enum(['low', 'normal', 'high', 'urgent']).default('normal'),
  filter: functionOption<(event: EventEnvelope) => boolean>().optional(),
  prefetch: intAtLeast(1, 65_535).optional(),
  concurrency: intAtLeast(1, 10_000).default(1),
  deliveryLimit: intAtLeast(1, 1000).default(5),
});

/** Validates a pattern and its options once, at `subscribe`; throws BAD_REQUEST naming the field. */
export function resolveSubscription(
  pattern: unknown,
  options: unknown,
  defaults: SubscriptionDefaults,
): SubscriptionSpec {
  assertTopicPattern(pattern);
  const o = parseOptions(subscribeOptionsSchema, options ?? {}, 'subscribe');
  const retryAttempts = o.retryAttempts ?? defaults.retryAttempts;
  const backoff = {
    initialDelayMs: o.retryDelayMs ?? defaults.retryDelayMs,
    maxDelayMs: o.maxRetryDelayMs,
    backoffMultiplier: o.retryMultiplier,
    // No jitter: a broker retry queue has one TTL per delay, so the delays must be a fixed ladder.
    jitter: 'none' as const,
  };
  const retryDelays = Array.from({ length: retryAttempts }, (_, i) =>
    Math.max(1, backoffDelay(i + 1, 0, backoff)),
  );
  return {
    pattern,
    queue: o.queue ?? `${defaults.serviceName}.${pattern}`,
    matches: compileTopicPattern(pattern),
    retryDelays,
    deadLetter: o.deadLetterQueue,
    priority: PRIORITY_RANK[o.priority],
    concurrency: o.concurrency,
    prefetch: Math.max(o.prefetch ?? 10, o.concurrency),
    deliveryLimit: o.deliveryLimit,
    filter: o.filter,
  };
}
