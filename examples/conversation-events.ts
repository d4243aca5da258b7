/**
 * The domain events of a conversation, published by the orchestrator when its saga ends:
 * `conversation.completed` (every step ran, the user got a spoken reply) and `conversation.failed`
 * (a step failed for good and the steps before it were compensated).
 */

import { defineEvent, type EventOf } from '@clone/event-bus';
import type { SagaResult } from '@clone/saga';
import { z } from 'zod';

const conversation = {
  sagaId: z.string().min(1),
  sessionId: z.string().min(1),
  userId: z.string().min(1),
  durationMs: z.number().nonnegative(),
};

/** Every step of the conversation saga ran: the user got a spoken reply. */
export const ConversationCompleted = defineEvent(
  'conversation.completed',
  z.object({ ...conversation, steps: z.array(z.string()).min(1) }),
);

/** A step of the conversation saga failed for good; the completed ones were compensated. */
export const ConversationFailed = defineEvent(
  'conversation.failed',
  z.object({
    ...conversation,
    failedStep: z.string().min(1),
    errorCode: z.string().min(1),
    compensatedSteps: z.array(z.string()),
  }),
);

/** Both types, for a bus's `events` option: their data is validated, other types are refused. */
export const CONVERSATION_EVENTS = [ConversationCompleted, ConversationFailed];

/** One of the two conversation events. */
export type ConversationEvent = EventOf<typeof ConversationCompleted> | EventOf<typeof ConversationFailed>;

/**
 * The event that says how a conversation's saga ended, published by `source`. The saga id is its
 * correlation id, so the analytics side can tie it to the saga's log lines.
 */
export function conversationEvent(
  turn: { userId: string; sessionId: string },
  saga: SagaResult<unknown>,
  source: string,
): ConversationEvent {
  const common = {
    sagaId: saga.sagaId,
    sessionId: turn.sessionId,
    userId: turn.userId,
    durationMs: saga.durationMs,
  };
  const input = { correlationId: saga.sagaId };
  if (saga.success)
    return ConversationCompleted.create({ ...common, steps: saga.completedSteps }, source, input);
  return ConversationFailed.create(
    {
      ...common,
      // A saga aborted before its first step has no failed step of its own.
      failedStep: saga.failedStep ?? '(none)',
      errorCode: saga.error?.code ?? 'UNKNOWN',
      compensatedSteps: saga.compensatedSteps,
    },
    source,
    input,
  );
}
