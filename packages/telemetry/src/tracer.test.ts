import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { parentOf, testTracing } from '../test/sdk';
import { extractTraceContext, injectTraceHeaders } from './header-propagation';
import { createTracer } from './tracer';
import { type TracedRequest, tracingMiddleware } from './tracing-middleware';

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0).reverse()) await close();
});

describe('createTracer', () => {
  it('starts child spans with attributes and ok / error statuses', async () => {
    const t = testTracing();
    cleanup.push(() => t.close());
    const tracer = createTracer({ serviceName: 'auth-service', tracerProvider: t.tracerProvider });
    const root = tracer.startSpan('request');
    const db = tracer.startChildSpan('db.insert', root);
    db.setAttribute('db.table', 'users').setStatus('error', 'duplicate key');
    db.end();
    root.setStatus('ok').end();
    const dbSpan = t.byName('db.insert');
    expect(parentOf(dbSpan)).toBe(root.otel.spanContext().spanId);
    expect(dbSpan.spanContext().traceId).toBe(root.traceId);
    expect(dbSpan.attributes).toMatchObject({ 'db.table': 'users', 'service.name': 'auth-service' });
    expect(dbSpan.status).toEqual({ code: SpanStatusCode.ERROR, message: 'duplicate key' });
    expect(t.byName('request').status.code).toBe(SpanStatusCode.OK);
  });

  it('refuses a missing service name with BAD_REQUEST naming it', () => {
    expect(() => createTracer({ serviceName: '' })).toThrow(/serviceName/);
  });
});

describe('tracingMiddleware', () => {
  it("continues the caller's trace over HTTP headers, sets req.span and runs the handler in it", async () => {
    const t = testTracing();
    cleanup.push(() => t.close());
    const tracer = createTracer({ serviceName: 'auth-service', tracerProvider: t.tracerProvider });
    const middleware = tracingMiddleware(tracer);
    let inside: string | undefined;
    let tenant: string | undefined;
    const server: Server = createServer((req, res) =>
      middleware(req, res, () => {
        const span = (req as TracedRequest).span;
        const db = tracer.startChildSpan('db.insert', span);
        db.end();
        inside = trace.getActiveSpan()?.spanContext().spanId;
        tenant = propagation.getActiveBaggage()?.getEntry('tenant')?.value;
        res.statusCode = 201;
        res.end();
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanup.push(() => new Promise((r) => server.close(r)));
    const caller = t.tracerProvider.getTracer('caller').startSpan('client', { kind: SpanKind.CLIENT });
    const headers: Record<string, string> = {};
    const ctx = propagation.setBaggage(
      trace.setSpan(context.active(), caller),
      propagation.createBaggage({ tenant: { value: 'acme' } }),
    );
    injectTraceHeaders(headers, ctx);
    expect(headers.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/api/users?x=1`, {
      method: 'POST',
      headers,
    });
    expect(res.status).toBe(201);
    // The server span ends when the response closes, just after the client has read it.
    while (!t.spans().some((s) => s.name === 'POST /api/users')) await new Promise((r) => setImmediate(r));
    caller.end();
    const serverSpan = t.byName('POST /api/users');
    expect(serverSpan.kind).toBe(SpanKind.SERVER);
    expect(parentOf(serverSpan)).toBe(caller.spanContext().spanId);
    expect(serverSpan.attributes['http.response.status_code']).toBe(201);
    expect(parentOf(t.byName('db.insert'))).toBe(serverSpan.spanContext().spanId);
    expect(inside).toBe(serverSpan.spanContext().spanId);
    expect(tenant).toBe('acme');
  });
});

describe('header propagation', () => {
  it('reads AMQP-style headers whose values are buffers', () => {
    const t = testTracing();
    cleanup.push(() => t.close());
    const span = t.tracerProvider.getTracer('x').startSpan('publish');
    const headers: Record<string, unknown> = {};
    injectTraceHeaders(headers, trace.setSpan(context.active(), span));
    const asBuffers = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, Buffer.from(String(v))]),
    );
    const extracted = trace.getSpanContext(extractTraceContext(asBuffers));
    expect(extracted?.traceId).toBe(span.spanContext().traceId);
    expect(extracted?.isRemote).toBe(true);
  });
});
