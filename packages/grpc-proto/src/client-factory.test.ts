import { ServiceAuthManager } from '@clone/service-auth';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORRELATION_ID_HEADER, withCorrelationId } from './call-context';
import { ClientFactory } from './client-factory';
import { aheadClock } from './test-support/fixtures';
import { startServer, TEST_SECRET } from './test-support/servers';

describe('ClientFactory and typed clients', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const seen: { correlationId: string | undefined; deadline: grpc.Deadline }[] = [];
  const factory = new ClientFactory({ defaultDeadlineMs: 5_000 });

  beforeAll(async () => {
    server = await startServer({
      auth: false,
      services: {
        asr: {
          Transcribe: async (call) => {
            seen.push({
              correlationId: call.metadata.get(CORRELATION_ID_HEADER)[0] as string | undefined,
              deadline: call.getDeadline(),
            });
            if (call.request.audio.length === 0) {
              throw new ServiceError(ServiceErrorCode.BAD_REQUEST, 'audio is empty', 'asr');
            }
            return { transcript: `${call.request.audio.length} bytes`, confidence: 0.9 };
          },
          StreamTranscribe: (call) => {
            call.on('data', (chunk: { sequence: number; audio: Buffer }) => {
              call.write({ transcript: `chunk ${chunk.sequence}`, isFinal: false, sequence: chunk.sequence });
            });
            call.on('end', () => call.end());
          },
        },
        rag: {
          Retrieve: (_call, callback) => callback({ code: grpc.status.NOT_FOUND, details: 'no such user' }),
          Upsert: (call, callback) => callback(null, { upserted: call.request.documents.length }),
          Ingest: (_call, callback) => callback(null, { documentId: 'doc-1' }),
          Delete: (_call, callback) => callback(null, { deleted: 0 }),
          ClearCache: (_call, callback) => callback(null, { cleared: true }),
          HealthCheck: () => {
            // Never answers: the caller's deadline ends it.
          },
        },
      },
    });
  });

  afterAll(async () => {
    factory.close();
    await server.stop();
  });

  it('makes callback and promise calls, and maps failures to ServiceError', async () => {
    const asr = factory.create('asr', server.address);
    const viaCallback = await new Promise((resolve, reject) =>
      asr.Transcribe({ audio: Buffer.from('abc') }, (error, response) =>
        error ? reject(error) : resolve(response),
      ),
    );
    expect(viaCallback).toMatchObject({ transcript: '3 bytes' });
    await expect(asr.promises.Transcribe({ audio: Buffer.from('abcd') })).resolves.toMatchObject({
      transcript: '4 bytes',
    });
    const error = await asr.promises.Transcribe({ audio: Buffer.alloc(0) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({
      code: ServiceErrorCode.BAD_REQUEST,
      message: 'audio is empty',
      service: 'asr',
    });
    const rag = factory.create('rag', server.address);
    await expect(rag.promises.Retrieve({ query: 'x' })).rejects.toMatchObject({
      code: ServiceErrorCode.NOT_FOUND,
    });
  });

  it('shares one channel per target across clients', () => {
    const a = factory.create('asr', server.address);
    const b = factory.create('rag', { host: '127.0.0.1', port: server.port });
    const c = factory.create('asr', '127.0.0.1:1');
    expect(a.getChannel()).toBe(b.getChannel());
    expect(c.getChannel()).not.toBe(a.getChannel());
  });

  it('gives calls a default deadline and a correlation id from the context', async () => {
    const asr = factory.create('asr', server.address);
    seen.length = 0;
    const before = Date.now();
    await withCorrelationId('corr-42', () => asr.promises.Transcribe({ audio: Buffer.from('a') }));
    await asr.promises.Transcribe({ audio: Buffer.from('b') }, { deadline: before + 60_000 });
    expect(seen[0]?.correlationId).toBe('corr-42');
    expect(seen[1]?.correlationId).toMatch(/^[0-9a-f-]{36}$/);
    const ms = (d: grpc.Deadline): number => (d instanceof Date ? d.getTime() : d);
    // The server sees what grpc-timeout said: about 5 s from the call, well short of 60 s.
    const first = ms(seen[0]!.deadline);
    expect(first).toBeGreaterThan(before + 4_000);
    expect(first).toBeLessThan(before + 30_000);
    expect(ms(seen[1]!.deadline)).toBeGreaterThan(before + 50_000);
  });

  it('ends a call that outlives its deadline with TIMEOUT', async () => {
    const rag = factory.create('rag', server.address);
    const error = await rag.promises.HealthCheck({}, { deadline: Date.now() + 50 }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ServiceErrorCode.TIMEOUT });
  });

  it('cancels a call when its signal aborts', async () => {
    const rag = factory.create('rag', server.address);
    const controller = new AbortController();
    const pending = rag.promises.HealthCheck({}, { signal: controller.signal });
    controller.abort();
    await expect(pending).rejects.toMatchObject({ code: ServiceErrorCode.CANCELLED });
  });

  it('streams both ways', async () => {
    const asr = factory.create('asr', server.address);
    const call = asr.StreamTranscribe();
    const results: string[] = [];
    call.on('data', (r) => results.push(r.transcript));
    const ended = new Promise((resolve) => call.on('end', resolve));
    for (let i = 0; i < 3; i++) call.write({ sequence: i, audio: Buffer.from([i]) });
    call.end();
    await ended;
    expect(results).toEqual(['chunk 0', 'chunk 1', 'chunk 2']);
  });

  it('adds a bearer token from the token option', async () => {
    const auth = new ServiceAuthManager({ jwtSecret: TEST_SECRET });
    let header: unknown;
    const probe = await startServer({
      auth: false,
      services: {
        tts: {
          ListVoices: (call, callback) => {
            header = call.metadata.get('authorization')[0];
            callback(null, { voices: [{ id: 'v1', name: 'Ada', languageCode: 'en-US' }] });
          },
          Synthesize: (call) => call.end(),
          ReleaseAudio: (_call, callback) => callback(null, { released: true }),
        },
      },
    });
    const own = new ClientFactory();
    try {
      const tts = own.create('tts', probe.address, {
        token: auth.createTokenProvider({ serviceId: 'ws-1', serviceName: 'ws', permissions: ['tts:read'] }),
      });
      const { voices } = await tts.promises.ListVoices({});
      expect(voices[0]?.name).toBe('Ada');
      expect(header).toMatch(/^Bearer /);
      const payload = auth.verifyServiceToken(String(header).slice(7));
      expect(payload.permissions).toEqual(['tts:read']);
    } finally {
      own.close();
      await probe.stop();
    }
  });

  it('keeps grpc-js argument shapes and leaves the caller metadata untouched', async () => {
    const asr = factory.create('asr', server.address);
    const mine = new grpc.Metadata();
    mine.set(CORRELATION_ID_HEADER, 'set-by-caller');
    seen.length = 0;
    await new Promise((resolve, reject) =>
      asr.Transcribe({ audio: Buffer.from('a') }, mine, (e, r) => (e ? reject(e) : resolve(r))),
    );
    await new Promise((resolve, reject) =>
      asr.transcribe({ audio: Buffer.from('b') }, mine, { deadline: Date.now() + 60_000 }, (e, r) =>
        e ? reject(e) : resolve(r),
      ),
    );
    await new Promise((resolve, reject) =>
      asr.Transcribe({ audio: Buffer.from('c') }, {}, (e, r) => (e ? reject(e) : resolve(r))),
    );
    expect(seen.map((s) => s.correlationId)).toEqual(['set-by-caller', 'set-by-caller', expect.any(String)]);
    expect(mine.getMap()).toEqual({ [CORRELATION_ID_HEADER]: 'set-by-caller' });
  });

  it('rejects bad options naming the field', () => {
    expect(() => new ClientFactory({ defaultDeadlineMs: -1 })).toThrow(/defaultDeadlineMs/);
    expect(() => new ClientFactory({ credentials: 'nope' as never })).toThrow(/credentials/);
  });

  it('refuses ports outside 1-65535 and reserved channel option names, naming the field', () => {
    const own = new ClientFactory();
    try {
      for (const bad of [
        { host: '127.0.0.1', port: 70_000 },
        { host: '127.0.0.1', port: -1 },
        { host: '127.0.0.1', port: 0 },
        { host: '', port: 50051 },
        'host:99999',
        'host:0',
        '[::1]:70000',
      ]) {
        let error: unknown;
        try {
          own.create('asr', bad as never);
        } catch (e) {
          error = e;
        }
        expect(error, JSON.stringify(bad)).toBeInstanceOf(ServiceError);
        expect(error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field: 'endpoint' } });
      }
      expect(own.targetOf({ host: '::1', port: 50051 })).toBe('[::1]:50051');
      expect(own.targetOf('dns:///asr.internal:50051')).toBe('dns:///asr.internal:50051');
      expect(own.targetOf('asr')).toBe('clone:///asr');
    } finally {
      own.close();
    }
    const options = JSON.parse('{"channelOptions":{"__proto__":{"grpc.primary_user_agent":"x"}}}');
    expect(() => new ClientFactory(options)).toThrow(/channelOptions.*reserved name/);
  });

  it('refuses bad per-client options once, naming the field, rather than on every call', () => {
    const own = new ClientFactory();
    try {
      for (const [options, field] of [
        [{ token: 'a-token' }, 'token'],
        [{ token: { get: () => 't' } }, 'token'],
        [{ interceptors: [42] }, 'interceptors.0'],
        [{ serviceName: '' }, 'serviceName'],
        [{ tokens: [] }, 'tokens'],
      ] as const) {
        let error: unknown;
        try {
          own.create('asr', '127.0.0.1:50051', options as never);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(ServiceError);
        expect(error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field } });
      }
    } finally {
      own.close();
    }
  });

  it('resolves bare service names through its resolver', () => {
    const own = new ClientFactory({ resolver: { target: (name) => `clone://tenant-a/${name}` } });
    try {
      expect(own.targetOf('asr')).toBe('clone://tenant-a/asr');
      expect(own.create('asr', 'asr').getChannel().getTarget()).toContain('clone://tenant-a/asr');
    } finally {
      own.close();
    }
  });

  it('close() cancels calls in flight at once, and later calls of its clients reject with ServiceError', async () => {
    const own = new ClientFactory({ defaultDeadlineMs: 600_000 });
    const rag = own.create('rag', server.address);
    const asr = own.create('asr', server.address);
    // The server never answers HealthCheck: only close() can end this call before its deadline.
    const pending = rag.promises.HealthCheck({}).catch((e: unknown) => e);
    const viaCallback = new Promise<grpc.ServiceError | null>((resolve) =>
      rag.HealthCheck({}, (error) => resolve(error)),
    );
    await new Promise((resolve) => setTimeout(resolve, 50));
    own.close();
    const error = await pending;
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: ServiceErrorCode.CANCELLED });
    expect((await viaCallback)?.code).toBe(grpc.status.CANCELLED);
    const later = await asr.promises.Transcribe({ audio: Buffer.from('a') }).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(ServiceError);
    expect(later).toMatchObject({ code: ServiceErrorCode.CANCELLED });
    const laterCallback = await new Promise<grpc.ServiceError | null>((resolve) =>
      asr.Transcribe({ audio: Buffer.from('a') }, (e) => resolve(e)),
    );
    expect(laterCallback?.code).toBe(grpc.status.CANCELLED);
    expect(() => own.create('asr', server.address)).toThrow(ServiceError);
  });

  it('rejects with a ServiceError, cause kept, when a client interceptor throws', async () => {
    const boom = new Error('interceptor bug');
    const asr = factory.create('asr', server.address, {
      interceptors: [
        () => {
          throw boom;
        },
      ],
    });
    const error = await asr.promises.Transcribe({ audio: Buffer.from('a') }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ service: 'asr', cause: boom });
  });

  it('takes time from its clock and correlation ids from its id source', async () => {
    const ahead = 3_600_000;
    const clock = aheadClock(ahead);
    let n = 0;
    const own = new ClientFactory({
      defaultDeadlineMs: 5_000,
      clock,
      createCorrelationId: () => `id-${++n}`,
    });
    try {
      const asr = own.create('asr', server.address);
      seen.length = 0;
      const before = Date.now();
      await asr.promises.Transcribe({ audio: Buffer.from('a') });
      expect(seen[0]?.correlationId).toBe('id-1');
      const deadline = seen[0]!.deadline;
      expect(deadline instanceof Date ? deadline.getTime() : deadline).toBeGreaterThan(before + ahead);
    } finally {
      own.close();
    }
  });
});
