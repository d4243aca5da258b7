/**
 * The analytics service: a subscriber, no gRPC. It counts conversation outcomes in memory from the
 * `conversation.completed` and `conversation.failed` events, each event once (the bus's inbox
 * absorbs redeliveries and republished events), on a queue of its own.
 */

import type { EventBus } from '@clone/event-bus';
import { ConversationCompleted, type ConversationEvent, ConversationFailed } from '../conversation-events';

/** Its service name: a bus of its own is created under this name (the `source` of what it publishes). */
export const ANALYTICS_SERVICE = 'analytics-service';
/** Its durable queue: every conversation event, whoever else subscribes to them. */
export const ANALYTICS_QUEUE = `${ANALYTICS_SERVICE}.conversations`;

/** What analytics has counted so far. */
export interface ConversationCounts {
  completed: number;
  failed: number;
  /** Failed conversations by the step that failed. */
  failedAt: Record<string, number>;
}

export interface AnalyticsOptions {
  /** Told of each event counted, with the counts after it, for a live view. */
  onCounted?: ((event: ConversationEvent, counts: ConversationCounts) => void) | undefined;
}

/** The running subscriber; `counts()` is a snapshot. */
export interface ConversationAnalytics {
  counts(): ConversationCounts;
}

/**
 * Subscribes analytics to every `conversation.*` event on `bus` and resolves once its consumer is
 * attached: events published after that are counted, whatever happens to the broker meanwhile.
 */
export async function startAnalytics(
  bus: EventBus,
  options: AnalyticsOptions = {},
): Promise<ConversationAnalytics> {
  const counts: ConversationCounts = { completed: 0, failed: 0, failedAt: {} };
  const snapshot = (): ConversationCounts => ({ ...counts, failedAt: { ...counts.failedAt } });
  // One subscription with a pattern rather than one per type: a single queue, which has carried
  // traffic before the demo crashes the broker (RabbitMQ 3.10 may not recover a quorum queue that
  // was declared a moment before a crash and never used).
  await bus.subscribe<ConversationEvent['data']>(
    'conversation.*',
    (envelope) => {
      // The bus checked the data against the declared schema of the event's type.
      const event = envelope as ConversationEvent;
      if (event.type === ConversationCompleted.type) counts.completed++;
      else if (event.type === ConversationFailed.type) {
        counts.failed++;
        counts.failedAt[event.data.failedStep] = (counts.failedAt[event.data.failedStep] ?? 0) + 1;
      } else return; // another conversation.* type: not ours to count
      options.onCounted?.(event, snapshot());
    },
    { queue: ANALYTICS_QUEUE },
  );
  return { counts: snapshot };
}
