// The same propagator over a real broker: trace context and baggage written into AMQP message
// headers by the publisher and read back by the consumer.
import { type RabbitMQServer, startRabbitMQ } from '@clone/test-servers';
import { context, propagation, trace } from '@opentelemetry/api';
import amqplib from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { extractTraceContext, injectTraceHeaders } from '../src/header-propagation';
import { testTracing } from './sdk';

describe('trace context over AMQP headers', () => {
  let broker: RabbitMQServer;
  beforeAll(async () => {
    broker = await startRabbitMQ();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('reaches the consumer with the trace id and baggage', async () => {
    const t = testTracing();
    const connection = await amqplib.connect(broker.url);
    const channel = await connection.createChannel();
    const { queue } = await channel.assertQueue('', { exclusive: true });
    const span = t.tracerProvider.getTracer('publisher').startSpan('publish order.created');
    const sent = propagation.setBaggage(
      trace.setSpan(context.active(), span),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    const headers: Record<string, unknown> = {};
    injectTraceHeaders(headers, sent);
    channel.sendToQueue(queue, Buffer.from('{}'), { headers });
    const received = await new Promise<Record<string, unknown>>((resolve) => {
      void channel.consume(queue, (message) => {
        if (message) resolve(message.properties.headers ?? {});
      });
    });
    const ctx = extractTraceContext(received);
    expect(trace.getSpanContext(ctx)?.traceId).toBe(span.spanContext().traceId);
    expect(trace.getSpanContext(ctx)?.spanId).toBe(span.spanContext().spanId);
    expect(propagation.getBaggage(ctx)?.getEntry('tenant')?.value).toBe('acme');
    span.end();
    await connection.close();
    await t.close();
  });
});
