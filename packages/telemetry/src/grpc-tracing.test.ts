// Traces across a real gRPC hop: manager call span → attempt (client) spans → server span, one
// trace id, the W3C context and baggage carried in the metadata.
import { clientConstructor, createServiceServer, ServiceCommunicationManager } from '@clone/grpc-proto';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import {
  context,
  ProxyTracerProvider,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { parentOf, testTracing } from '../test/sdk';
import { traceCommunication } from './call-tracing';
import { tracingClientInterceptor } from './grpc-client-interceptor';
import { tracingServerInterceptor } from './grpc-server-interceptor';

const SECRET = 'telemetry-test-secret-0123456789-abcdefghijklmnop';
const cleanup: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of cleanup.splice(0)) await close();
});

async function setup(
  transcribe: (call: unknown) => { transcript: string } | ServiceError,
  { interceptor = false } = {},
) {
  const tracing = testTracing();
  const seen: {
    traceId?: string | undefined;
    baggage?: string | undefined;
    streamed: Array<string | undefined>;
  } = {
    streamed: [],
  };
  const server = createServiceServer({
    serviceName: 'asr',
    auth: { jwtSecret: SECRET },
    handleSignals: false,
    interceptors: [tracingServerInterceptor({ tracerProvider: tracing.tracerProvider })],
    services: {
      asr: {
        Transcribe: (call, callback) => {
          // The handler runs in the server span's context, with the caller's baggage.
          seen.traceId = trace.getActiveSpan()?.spanContext().traceId;
          seen.baggage = propagation.getActiveBaggage()?.getEntry('tenant')?.value;
          const out = transcribe(call);
          // A ServiceError is a grpc-js status (code, details), as createServiceServer maps it.
          if (out instanceof ServiceError) callback({ code: out.grpcStatus, details: out.message });
          else callback(null, out);
        },
        StreamTranscribe: (call) => {
          // Each streamed message reaches the handler in the server span's context too.
          call.on('data', (chunk: { sequence: number }) => {
            seen.streamed.push(trace.getActiveSpan()?.spanContext().traceId);
            call.write({ transcript: 'part', isFinal: false, sequence: chunk.sequence });
          });
          call.on('end', () => call.end());
        },
      },
    },
  });
  const port = await server.listen(0, '127.0.0.1');
  const comm = new ServiceCommunicationManager({
    serviceId: 'caller-1',
    serviceName: 'caller',
    jwtSecret: SECRET,
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
    // The manager's hook traces its clients' calls; an interceptor added anyway must not double them.
    ...(interceptor
      ? { client: { interceptors: [tracingClientInterceptor({ tracerProvider: tracing.tracerProvider })] } }
      : {}),
  });
  // Installs its hook in the manager: every executeServiceCall is a call span, every gRPC call
  // of its clients an attempt span.
  const telemetry = traceCommunication(comm, { tracerProvider: tracing.tracerProvider });
  const asr = comm.createASRClient({ host: '127.0.0.1', port });
  const call = <T>(fn: () => Promise<T>): Promise<T> =>
    comm.executeServiceCall('asr', fn, { idempotent: true });
  cleanup.push(async () => {
    telemetry.stop();
    await comm.close();
    server.server.forceShutdown();
    await server.shutdown();
    await tracing.close();
  });
  return { tracing, comm, asr, call, seen, port };
}

const request = {
  sessionId: 's',
  audio: Buffer.from('x'),
  encoding: 'LINEAR16',
  sampleRateHz: 16000,
  languageCode: 'en',
};

describe('tracing across a gRPC hop', () => {
  it('links root → call → attempt (client) → server spans in one trace, with baggage', async () => {
    const { tracing, asr, call, seen } = await setup(() => ({ transcript: 'hi' }));
    const root = tracing.tracerProvider.getTracer('test').startSpan('conversation');
    const bag = propagation.createBaggage({ tenant: { value: 'acme' } });
    const ctx = propagation.setBaggage(trace.setSpan(context.active(), root), bag);
    await context.with(ctx, () => call(() => asr.promises.Transcribe(request as never)));
    root.end();
    const callSpan = tracing.byName('asr.Transcribe call');
    expect(tracing.spans().filter((s) => s.name.endsWith(' call'))).toHaveLength(1);
    expect(callSpan.attributes).toMatchObject({ 'rpc.service': 'asr', 'rpc.method': 'Transcribe' });
    const client = tracing.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    const server = tracing.spans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(client.name).toMatch(/ASR.*\/Transcribe$/);
    expect(parentOf(callSpan)).toBe(root.spanContext().spanId);
    expect(parentOf(client)).toBe(callSpan.spanContext().spanId);
    expect(parentOf(server)).toBe(client.spanContext().spanId);
    const traceIds = new Set([root, callSpan, client, server].map((s) => s.spanContext().traceId));
    expect(traceIds.size).toBe(1);
    expect(seen.traceId).toBe(root.spanContext().traceId);
    expect(seen.baggage).toBe('acme');
    expect(server.attributes).toMatchObject({
      'rpc.system': 'grpc',
      'rpc.method': 'Transcribe',
      'rpc.grpc.status_code': 0,
    });
  });

  it.each([
    ['the manager hook', false],
    ['the manager hook and a tracingClientInterceptor', true],
  ])(
    'makes one client span per retry attempt under the call span (%s), retries as span events',
    async (_, interceptor) => {
      let n = 0;
      const { tracing, asr, call } = await setup(
        () =>
          ++n < 3
            ? new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'busy', 'asr')
            : { transcript: 'hi' },
        { interceptor },
      );
      await call(() => asr.promises.Transcribe(request as never));
      const callSpan = tracing.byName('asr.Transcribe call');
      const attempts = tracing.spans().filter((s) => s.kind === SpanKind.CLIENT);
      expect(attempts).toHaveLength(3);
      for (const a of attempts) expect(parentOf(a)).toBe(callSpan.spanContext().spanId);
      expect(attempts.map((a) => a.attributes['rpc.grpc.status_code'])).toEqual([14, 14, 0]);
      expect(callSpan.events.filter((e) => e.name === 'retry')).toHaveLength(2);
      expect(callSpan.attributes['clone.attempts']).toBe(3);
      const servers = tracing.spans().filter((s) => s.kind === SpanKind.SERVER);
      expect(servers.map((s) => parentOf(s)).sort()).toEqual(
        attempts.map((a) => a.spanContext().spanId).sort(),
      );
    },
  );
});

describe('streamed requests', () => {
  it('runs the handler and each message in the server span, a child of the client span', async () => {
    const { tracing, asr, seen } = await setup(() => ({ transcript: 'unused' }));
    const root = tracing.tracerProvider.getTracer('test').startSpan('conversation');
    const stream = context.with(trace.setSpan(context.active(), root), () => asr.StreamTranscribe());
    const ended = new Promise((resolve) => stream.on('end', resolve));
    stream.on('data', () => {});
    for (let i = 0; i < 3; i++) stream.write({ sequence: i, audio: Buffer.from([i]) });
    stream.end();
    await ended;
    root.end();
    const client = tracing.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    await expect.poll(() => tracing.spans().some((s) => s.kind === SpanKind.SERVER)).toBe(true);
    const server = tracing.spans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(parentOf(client)).toBe(root.spanContext().spanId);
    expect(parentOf(server)).toBe(client.spanContext().spanId);
    expect(seen.streamed).toEqual(Array(3).fill(root.spanContext().traceId));
  });
});

describe('call span outcome', () => {
  it('keeps the service name alone for a call that made no gRPC call', async () => {
    const { tracing, call } = await setup(() => ({ transcript: 'unused' }));
    await call(async () => 'computed locally');
    const callSpan = tracing.byName('asr call');
    expect(callSpan.attributes['rpc.method']).toBeUndefined();
    expect(callSpan.status.code).toBe(SpanStatusCode.OK);
  });

  it('ends the call span with the error of the last attempt and the attempt count', async () => {
    const { tracing, asr, call } = await setup(
      () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'asr'),
    );
    await expect(call(() => asr.promises.Transcribe(request as never))).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
    const callSpan = tracing.byName('asr.Transcribe call');
    expect(callSpan.status.code).toBe(SpanStatusCode.ERROR);
    expect(callSpan.attributes).toMatchObject({
      'clone.attempts': 3,
      'error.type': ServiceErrorCode.SERVICE_UNAVAILABLE,
      'rpc.grpc.status_code': 14,
    });
    expect(tracing.spans().filter((s) => s.kind === SpanKind.CLIENT)).toHaveLength(3);
  });
});

describe('traceCommunication without a tracer', () => {
  it('makes no span but still sends the context (baggage) when a propagator is registered', async () => {
    const { tracing, port, seen } = await setup(() => ({ transcript: 'hi' }));
    const comm = new ServiceCommunicationManager({
      serviceId: 'c-2',
      serviceName: 'caller',
      jwtSecret: SECRET,
    });
    // A provider with no SDK behind it: the hook decides once that there is nothing to trace.
    const telemetry = traceCommunication(comm, { tracerProvider: new ProxyTracerProvider() });
    cleanup.push(async () => {
      telemetry.stop();
      await comm.close();
    });
    const asr = comm.createASRClient({ host: '127.0.0.1', port });
    const bag = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'globex' } }),
    );
    await context.with(bag, () =>
      comm.executeServiceCall('asr', () => asr.promises.Transcribe(request as never)),
    );
    expect(seen.baggage).toBe('globex');
    expect(tracing.spans().filter((s) => s.kind === SpanKind.CLIENT || s.name.endsWith(' call'))).toEqual([]);
  });

  it('stops sending the context once stopped', async () => {
    const { port, seen } = await setup(() => ({ transcript: 'hi' }));
    const comm = new ServiceCommunicationManager({
      serviceId: 'c-3',
      serviceName: 'caller',
      jwtSecret: SECRET,
    });
    cleanup.push(() => comm.close());
    traceCommunication(comm, { tracerProvider: new ProxyTracerProvider() }).stop();
    const asr = comm.createASRClient({ host: '127.0.0.1', port });
    const bag = propagation.setBaggage(
      context.active(),
      propagation.createBaggage({ tenant: { value: 'initech' } }),
    );
    await context.with(bag, () =>
      comm.executeServiceCall('asr', () => asr.promises.Transcribe(request as never)),
    );
    expect(seen.baggage).toBeUndefined();
  });
});

describe('tracingClientInterceptor', () => {
  it('traces a grpc-js client of its own: a client span under the active one, its context sent', async () => {
    const { tracing, comm, port } = await setup(
      () => new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'busy', 'asr'),
    );
    const Asr = clientConstructor('asr');
    const plain = new Asr(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
      interceptors: [tracingClientInterceptor({ tracerProvider: tracing.tracerProvider })],
    }) as unknown as grpc.Client & {
      Transcribe(r: unknown, m: grpc.Metadata, cb: (e: grpc.ServiceError | null) => void): void;
    };
    cleanup.push(async () => plain.close());
    const metadata = new grpc.Metadata();
    const token = comm.getAuthManager().generateServiceToken('caller-1', 'caller', ['asr:read'], {
      audience: 'asr',
    });
    metadata.set('authorization', `Bearer ${token}`);
    // Forwarded from an inbound call: a context that merely arrived is replaced by the span's.
    metadata.set('traceparent', `00-${'ab'.repeat(16)}-${'cd'.repeat(8)}-01`);
    const root = tracing.tracerProvider.getTracer('test').startSpan('outside the manager');
    const error = await context.with(
      trace.setSpan(context.active(), root),
      () => new Promise<grpc.ServiceError | null>((resolve) => plain.Transcribe(request, metadata, resolve)),
    );
    root.end();
    expect(error?.code).toBe(grpc.status.UNAVAILABLE);
    const client = tracing.spans().find((s) => s.kind === SpanKind.CLIENT)!;
    expect(parentOf(client)).toBe(root.spanContext().spanId);
    expect(client.status.code).toBe(SpanStatusCode.ERROR);
    expect(client.attributes).toMatchObject({
      'rpc.grpc.status_code': grpc.status.UNAVAILABLE,
      'error.type': 'UNAVAILABLE',
    });
    const server = tracing.spans().find((s) => s.kind === SpanKind.SERVER)!;
    expect(parentOf(server)).toBe(client.spanContext().spanId);
  });
});

describe('traceCommunication', () => {
  it('installs its hook in a manager that takes one, and removes it when stopped', async () => {
    const tracing = testTracing();
    const hooks: unknown[] = [];
    const source = {
      on: () => () => {},
      useCallTelemetry: (hook: unknown) => {
        hooks.push(hook);
        return () => void hooks.splice(hooks.indexOf(hook), 1);
      },
    };
    const telemetry = traceCommunication(source, { tracerProvider: tracing.tracerProvider });
    expect(hooks).toEqual([telemetry]);
    telemetry.stop();
    expect(hooks).toEqual([]);
    await tracing.close();
  });
});
