import { createEventBus, type EventBus } from '@clone/event-bus';
import { createSaga } from '@clone/saga';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { CONVERSATION_EVENTS, ConversationCompleted, conversationEvent } from '../conversation-events';
import { startAnalytics } from './analytics';

const buses: EventBus[] = [];
afterEach(async () => {
  await Promise.all(buses.splice(0).map((b) => b.close()));
});

function memoryBus(): EventBus {
  const bus = createEventBus({
    serviceName: 'websocket-server',
    url: undefined,
    events: CONVERSATION_EVENTS,
  });
  buses.push(bus);
  return bus;
}

/** A real saga's result: two steps, the second failing with `failWith` when given. */
function conversation(sessionId: string, failWith?: ServiceErrorCode) {
  return createSaga({ sessionId }, { sagaId: `conversation-${sessionId}` })
    .step(
      'transcribe-audio',
      async () => 'hello',
      async () => {},
    )
    .step('synthesize-speech', async () => {
      if (failWith !== undefined)
        throw new ServiceError(failWith, 'tts is down', 'tts', { retryable: false });
      return 'audio';
    })
    .execute();
}

async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((r) => setTimeout(r, 5));
}

describe('analytics', () => {
  it('counts the events of completed and failed sagas, each event once', async () => {
    const bus = memoryBus();
    const analytics = await startAnalytics(bus);
    const turn = (s: string) => ({ userId: 'user-1', sessionId: s });
    const events = [
      conversationEvent(turn('s1'), await conversation('s1'), 'websocket-server'),
      conversationEvent(
        turn('s2'),
        await conversation('s2', ServiceErrorCode.SERVICE_UNAVAILABLE),
        'websocket-server',
      ),
      conversationEvent(turn('s3'), await conversation('s3'), 'websocket-server'),
      conversationEvent(
        turn('s4'),
        await conversation('s4', ServiceErrorCode.CIRCUIT_OPEN),
        'websocket-server',
      ),
    ];
    expect(events.map((e) => e.type)).toEqual([
      'conversation.completed',
      'conversation.failed',
      'conversation.completed',
      'conversation.failed',
    ]);
    expect(events[1]!.data).toMatchObject({
      failedStep: 'synthesize-speech',
      errorCode: 'SERVICE_UNAVAILABLE',
      compensatedSteps: ['transcribe-audio'],
      sagaId: 'conversation-s2',
    });
    for (const event of events) await bus.publish(event);
    // The same event again (a publish retried after a lost confirm): absorbed by the inbox.
    await bus.publish(events[0]!);
    await until(() => bus.getStats().duplicateEvents === 1 && analytics.counts().failed === 2);
    expect(analytics.counts()).toEqual({ completed: 2, failed: 2, failedAt: { 'synthesize-speech': 2 } });
  });

  it('refuses an event whose data does not match its schema, so it is never counted', async () => {
    const bus = memoryBus();
    const analytics = await startAnalytics(bus);
    const bad = ConversationCompleted.create(
      { sagaId: 'conversation-s1', sessionId: 's1', userId: 'user-1', durationMs: 5, steps: [] },
      'websocket-server',
    );
    await expect(bus.publish(bad)).rejects.toMatchObject({
      code: 'BAD_REQUEST',
      metadata: { field: 'data.steps' },
    });
    expect(analytics.counts()).toEqual({ completed: 0, failed: 0, failedAt: {} });
  });

  it('reads a queue of its own, next to any other subscriber of the same events', async () => {
    const bus = memoryBus();
    const analytics = await startAnalytics(bus);
    const audit: string[] = [];
    await bus.subscribe('conversation.#', (e) => void audit.push(e.id));
    const event = conversationEvent(
      { userId: 'user-1', sessionId: 's1' },
      await conversation('s1'),
      'websocket-server',
    );
    await bus.publish(event);
    await until(() => audit.length === 1 && analytics.counts().completed === 1);
    expect(audit).toEqual([event.id]);
    expect((await bus.healthCheck()).subscriptions).toBe(2);
  });
});
