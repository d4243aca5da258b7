import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRELATION_ID_HEADER, getCorrelationId, newCorrelationId, withCorrelationId } from './call-context';
import { clientContextInterceptor } from './client-context-interceptor';
import { clientConstructor } from './protos';
import { startServer } from './test-support/servers';

describe('clientContextInterceptor on a grpc-js client made elsewhere', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const seen: { id: unknown; auth: unknown; deadline: number }[] = [];

  beforeAll(async () => {
    server = await startServer({
      auth: false,
      services: {
        asr: {
          Transcribe: (call, callback) => {
            const d = call.getDeadline();
            seen.push({
              id: call.metadata.get(CORRELATION_ID_HEADER)[0],
              auth: call.metadata.get('authorization')[0],
              deadline: d instanceof Date ? d.getTime() : d,
            });
            const refused = call.request.sessionId === 'refuse';
            if (refused) callback({ code: grpc.status.UNAUTHENTICATED, details: 'no' });
            else callback(null, { transcript: 'ok' });
          },
          StreamTranscribe: (call) => call.end(),
        },
      },
    });
  });

  afterAll(() => server.stop());

  it('adds correlation id, token and default deadline, and drops a refused token', async () => {
    let signed = 0;
    let invalidated = 0;
    const Ctor = clientConstructor('asr');
    const client = new Ctor(server.address, grpc.credentials.createInsecure(), {
      interceptors: [
        clientContextInterceptor({
          defaultDeadlineMs: 5_000,
          token: {
            get: () => `t${++signed}`,
            invalidate: () => {
              invalidated++;
            },
          },
          createCorrelationId: () => 'fresh-id',
        }),
      ],
    }) as unknown as {
      Transcribe(request: unknown, callback: (error: grpc.ServiceError | null) => void): void;
      close(): void;
    };
    const call = (sessionId: string) =>
      new Promise<unknown>((resolve) =>
        client.Transcribe({ sessionId }, (error: grpc.ServiceError | null) => resolve(error?.code ?? 0)),
      );
    try {
      seen.length = 0;
      const before = Date.now();
      await withCorrelationId('from-context', () => call('a'));
      await call('b');
      await expect(call('refuse')).resolves.toBe(grpc.status.UNAUTHENTICATED);
      expect(seen.map((s) => s.id)).toEqual(['from-context', 'fresh-id', 'fresh-id']);
      expect(seen.map((s) => s.auth)).toEqual(['Bearer t1', 'Bearer t2', 'Bearer t3']);
      expect(seen[0]!.deadline).toBeGreaterThan(before + 4_000);
      expect(seen[0]!.deadline).toBeLessThan(before + 30_000);
      expect(invalidated).toBe(1);
    } finally {
      client.close();
    }
  });

  it('refuses bad options once, naming the field, instead of failing every call', () => {
    for (const [options, field] of [
      [{ defaultDeadlineMs: -1 }, 'defaultDeadlineMs'],
      [{ defaultDeadlineMs: 2 ** 31 }, 'defaultDeadlineMs'],
      [{ token: 'secret' }, 'token'],
      [{ createCorrelationId: 'id' }, 'createCorrelationId'],
    ] as const) {
      let error: unknown;
      try {
        clientContextInterceptor(options as never);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field } });
    }
  });

  it('reads and makes correlation ids', () => {
    expect(getCorrelationId()).toBeUndefined();
    expect(withCorrelationId('abc', () => getCorrelationId())).toBe('abc');
    expect(newCorrelationId()).toMatch(/^[0-9a-f-]{36}$/);
    expect(newCorrelationId(() => 'mine')).toBe('mine');
  });
});
