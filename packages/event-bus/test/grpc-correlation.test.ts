import {
  ClientFactory,
  CORRELATION_ID_HEADER,
  createServiceServer,
  withCorrelationId,
} from '@clone/grpc-proto';
import { afterEach, describe, expect, it } from 'vitest';
import { createEventBus, EventBuilder, type EventEnvelope } from '../src/index';
import { waitUntil } from './wait';

/**
 * One correlation id from end to end: a gRPC call → an event published in its handler → the
 * subscriber's handler → a gRPC call it makes. The event bus and grpc-proto share one process-wide
 * correlation context; over RabbitMQ the id travels in the event (the contract suite checks that
 * the handler runs in it on both transports).
 */
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function listen(server: ReturnType<typeof createServiceServer>): Promise<string> {
  const port = await server.listen(0, '127.0.0.1');
  cleanups.push(async () => {
    server.server.forceShutdown();
    await server.shutdown();
  });
  return `127.0.0.1:${port}`;
}

describe('correlation id across gRPC and the event bus', () => {
  it('keeps the id of the first call through an event and onward calls', async () => {
    const bus = createEventBus({ serviceName: 'llm' });
    cleanups.push(() => bus.close());
    const factory = new ClientFactory();
    cleanups.push(async () => factory.close());

    const atRag: string[] = [];
    const ragAddress = await listen(
      createServiceServer({
        auth: false,
        handleSignals: false,
        services: {
          rag: {
            Retrieve: (call, callback) => {
              atRag.push(call.metadata.get(CORRELATION_ID_HEADER)[0] as string);
              callback(null, { documents: [] });
            },
            Upsert: (_c, cb) => cb(null, {}),
            Ingest: (_c, cb) => cb(null, {}),
            Delete: (_c, cb) => cb(null, {}),
            ClearCache: (_c, cb) => cb(null, {}),
          },
        },
      }),
    );
    const rag = factory.create('rag', ragAddress);

    const events: EventEnvelope[] = [];
    await bus.subscribe('conversation.*', async (event) => {
      events.push(event);
      // No id passed: the call takes the event's from the handler's context.
      await rag.promises.Retrieve({ query: 'follow-up' });
    });

    const llmAddress = await listen(
      createServiceServer({
        auth: false,
        handleSignals: false,
        services: {
          llm: {
            Generate: async () => {
              // No correlation id given: the event takes the call's.
              await bus.publish(EventBuilder.create('conversation.completed', { data: {} }, 'llm'));
              return { text: 'ok' };
            },
            StreamGenerate: (call) => call.end(),
          },
        },
      }),
    );
    const llm = factory.create('llm', llmAddress);

    await withCorrelationId('conversation-9', () => llm.promises.Generate({ prompt: 'hi' }));
    await waitUntil(() => atRag.length === 1, 'the onward call of the event handler');
    expect(events[0]?.correlationId).toBe('conversation-9');
    expect(atRag).toEqual(['conversation-9']);
  });
});
