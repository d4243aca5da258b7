// Trace context and baggage through @clone/event-bus over a real RabbitMQ, with the real SDK: the
// publish is a PRODUCER span, each handler run a CONSUMER span that is its child, retries too.
import { createEventBus, EventBuilder } from '@clone/event-bus';
import { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { traceEventBus } from '../src/event-bus-tracing';
import { parentOf, registerGlobals, testTracing } from './sdk';

/** Polls until `condition` holds (a hang guard, not a timing assertion). */
async function waitUntil(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('traceEventBus over RabbitMQ', () => {
  let broker: RabbitMQServer;
  beforeAll(async () => {
    broker = await startRabbitMQ();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('makes the consumer span a child of the producer span, keeps baggage, and survives a retry', async () => {
    const t = testTracing();
    const bus = createEventBus({
      serviceName: 'orders',
      url: broker.url,
      exchange: 'traced',
      retryDelayMs: 5,
    });
    const remove = traceEventBus(bus, { tracerProvider: t.tracerProvider, name: 'orders-bus' });
    const runs: Array<{
      spanId: string | undefined;
      traceId: string | undefined;
      tenant: string | undefined;
    }> = [];
    await bus.subscribe('order.created', () => {
      const active = trace.getActiveSpan()?.spanContext();
      runs.push({
        spanId: active?.spanId,
        traceId: active?.traceId,
        tenant: propagation.getActiveBaggage()?.getEntry('tenant')?.value,
      });
      if (runs.length === 1) throw new Error('first run fails');
    });

    const root = t.tracerProvider.getTracer('test').startSpan('conversation');
    const sent = propagation.setBaggage(
      trace.setSpan(context.active(), root),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    const event = EventBuilder.create('order.created', { data: { orderId: 'o-1' } }, 'orders');
    await context.with(sent, () => bus.publish(event));
    root.end();
    await waitUntil(
      () => t.spans().filter((s) => s.name === 'process order.created').length === 2,
      'two runs',
    );

    const producer = t.byName('publish order.created');
    expect(producer.kind).toBe(SpanKind.PRODUCER);
    expect(producer.spanContext().traceId).toBe(root.spanContext().traceId);
    expect(parentOf(producer)).toBe(root.spanContext().spanId);
    expect(producer.attributes).toMatchObject({
      'messaging.system': 'rabbitmq',
      'messaging.destination.name': 'order.created',
      'messaging.operation.type': 'publish',
      'messaging.message.id': event.id,
      'messaging.message.conversation_id': event.correlationId,
      'clone.events.bus': 'orders-bus',
    });

    const consumers = t.spans().filter((s) => s.name === 'process order.created');
    for (const consumer of consumers) {
      expect(consumer.kind).toBe(SpanKind.CONSUMER);
      expect(consumer.spanContext().traceId).toBe(producer.spanContext().traceId);
      expect(parentOf(consumer)).toBe(producer.spanContext().spanId);
      expect(consumer.attributes['messaging.destination.subscription.name']).toEqual(expect.any(String));
    }
    expect(consumers.map((s) => s.status.code)).toEqual([SpanStatusCode.ERROR, SpanStatusCode.OK]);
    // The handler ran inside its consumer span, with the publisher's baggage, both times.
    expect(runs).toEqual(
      consumers.map((s) => ({
        spanId: s.spanContext().spanId,
        traceId: s.spanContext().traceId,
        tenant: 'acme',
      })),
    );

    remove();
    await bus.publish(EventBuilder.create('order.created', { data: { orderId: 'o-2' } }, 'orders'));
    await waitUntil(() => runs.length === 3, 'the untraced run');
    expect(runs[2]).toEqual({ spanId: undefined, traceId: undefined, tenant: undefined });
    expect(t.spans().filter((s) => s.name === 'publish order.created')).toHaveLength(1);
    await bus.close();
    await t.close();
  });
});

describe('traceEventBus without a tracer', () => {
  it('still carries the context and baggage to the handler', async () => {
    registerGlobals();
    const bus = createEventBus({ serviceName: 'plain' });
    traceEventBus(bus);
    const tenants: Array<string | undefined> = [];
    await bus.subscribe('order.created', () => {
      tenants.push(propagation.getActiveBaggage()?.getEntry('tenant')?.value);
    });
    const withBaggage = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    await context.with(withBaggage, () =>
      bus.publish(EventBuilder.create('order.created', { data: {} }, 'orders')),
    );
    await waitUntil(() => tenants.length === 1, 'the handler');
    expect(tenants).toEqual(['acme']);
    await bus.close();
  });

  it('refuses bad options with BAD_REQUEST naming the field', () => {
    const bus = createEventBus({ serviceName: 'plain' });
    expect(() => traceEventBus(bus, { system: '' })).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        metadata: expect.objectContaining({ field: 'system' }),
      }),
    );
    expect(() => traceEventBus(bus, { tracerProvider: {} as never })).toThrow(
      expect.objectContaining({
        code: 'BAD_REQUEST',
        metadata: expect.objectContaining({ field: 'tracerProvider' }),
      }),
    );
  });
});
