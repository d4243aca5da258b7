import { CircuitState, ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import { ServiceCommunicationManager } from './service-communication-manager';
import { startServer, TEST_SECRET } from './test-support/servers';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

function manager(extra: Partial<ConstructorParameters<typeof ServiceCommunicationManager>[0]> = {}) {
  const m = new ServiceCommunicationManager({
    serviceId: 'websocket-server-1',
    serviceName: 'websocket-server',
    jwtSecret: TEST_SECRET,
    tokenExpirySeconds: 3600,
    healthCheckIntervalMs: 30000,
    enableServiceDiscovery: true,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
    ...extra,
  });
  cleanups.push(() => m.close());
  return m;
}

async function server(options: Parameters<typeof startServer>[0]) {
  const s = await startServer(options);
  cleanups.push(() => s.stop());
  return s;
}

const unavailable = { code: grpc.status.UNAVAILABLE, details: 'warming up' };

describe('ServiceCommunicationManager', () => {
  it('validates its config, naming the field', () => {
    expect(() => manager({ jwtSecret: '' })).toThrow(/jwtSecret/);
    expect(() => manager({ healthCheckIntervalMs: 0 })).toThrow(/healthCheckIntervalMs/);
    expect(() => manager({ circuitBreaker: { failureThreshold: 0 } })).toThrow(/failureThreshold/);
    const error = (() => {
      try {
        manager({ jwtSecret: '' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST });
  });

  it('retries a transient UNAVAILABLE and succeeds', async () => {
    let calls = 0;
    const s = await server({
      services: {
        asr: {
          Transcribe: (_call, callback) =>
            ++calls < 3 ? callback(unavailable) : callback(null, { transcript: 'hello' }),
          StreamTranscribe: (call) => call.end(),
        },
      },
    });
    const m = manager();
    const retries: number[] = [];
    const outcomes: unknown[] = [];
    m.on('retry', (e) => retries.push(e.attempt));
    m.on('callSucceeded', (e) => outcomes.push({ ok: e.service, attempts: e.attempts }));
    m.on('callFailed', (e) => outcomes.push({ failed: e.service, code: e.error.code }));
    const asr = m.createASRClient({ host: '127.0.0.1', port: s.port }, ['asr:read']);
    const result = await m.executeServiceCall('asr', () =>
      asr.promises.Transcribe({ audio: Buffer.from('x') }),
    );
    expect(result.transcript).toBe('hello');
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
    await expect(
      m.executeServiceCall('asr', () => {
        throw new Error('thrown before any call');
      }),
    ).rejects.toMatchObject({ code: ServiceErrorCode.INTERNAL_ERROR, service: 'asr' });
    expect(outcomes).toEqual([
      { ok: 'asr', attempts: 3 },
      { failed: 'asr', code: ServiceErrorCode.INTERNAL_ERROR },
    ]);
  });

  it('takes breaker and retry settings per service', async () => {
    let calls = 0;
    const s = await server({
      services: {
        asr: {
          Transcribe: (_call, callback) => {
            calls++;
            callback(unavailable);
          },
          StreamTranscribe: (call) => call.end(),
        },
      },
    });
    const m = manager({ services: { asr: { retry: { maxAttempts: 5, initialDelayMs: 0 } } } });
    const asr = m.createASRClient(s.address, ['asr:read']);
    await expect(m.executeServiceCall('asr', () => asr.promises.Transcribe({}))).rejects.toMatchObject({
      attempts: 5,
    });
    expect(calls).toBe(5);
    m.configureService('asr', { retry: { maxAttempts: 1 }, circuitBreaker: { failureThreshold: 1 } });
    await expect(m.executeServiceCall('asr', () => asr.promises.Transcribe({}))).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
    expect(calls).toBe(6);
    await expect(m.executeServiceCall('asr', () => asr.promises.Transcribe({}))).rejects.toMatchObject({
      code: ServiceErrorCode.CIRCUIT_OPEN,
    });
    expect(calls).toBe(6);
  });

  it('does not retry an rpc its proto does not mark idempotent', async () => {
    let ingests = 0;
    let upserts = 0;
    const s = await server({
      services: {
        rag: {
          Ingest: (_call, callback) => {
            ingests++;
            callback(unavailable);
          },
          Upsert: (_call, callback) => {
            upserts++;
            callback(unavailable);
          },
          Retrieve: (_call, callback) => callback(null, { documents: [] }),
          Delete: (_call, callback) => callback(null, { deleted: 0 }),
          ClearCache: (_call, callback) => callback(null, { cleared: true }),
        },
      },
    });
    const m = manager({ circuitBreaker: { failureThreshold: 100 } });
    const rag = m.createRAGClient(s.address, ['rag:read', 'rag:write']);
    const ingest = await m
      .executeServiceCall('rag', () => rag.promises.Ingest({ content: 'x' }))
      .catch((e) => e);
    expect(ingest).toMatchObject({ code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true });
    expect(ingests).toBe(1);
    await expect(m.executeServiceCall('rag', () => rag.promises.Upsert({ documents: [] }))).rejects.toThrow(
      ServiceError,
    );
    expect(upserts).toBe(3);
    // The caller knows better: an explicit idempotent flag wins over the proto.
    await expect(
      m.executeServiceCall('rag', () => rag.promises.Ingest({ content: 'x' }), { idempotent: true }),
    ).rejects.toThrow(ServiceError);
    expect(ingests).toBe(4);
  });

  it('opens the circuit on a failing service; later calls never reach it', async () => {
    let reached = 0;
    const s = await server({
      services: {
        llm: {
          Generate: (_call, callback) => {
            reached++;
            callback({ code: grpc.status.INTERNAL, details: 'model crashed' });
          },
          StreamGenerate: (call) => call.end(),
        },
      },
    });
    const m = manager({ circuitBreaker: { failureThreshold: 3 } });
    const states: CircuitState[] = [];
    m.on('circuitStateChange', (e) => states.push(e.to));
    const llm = m.createLLMClient(s.address, ['llm:read']);
    let fnCalls = 0;
    const call = () =>
      m.executeServiceCall('llm', () => {
        fnCalls++;
        return llm.promises.Generate({ prompt: 'hi' });
      });
    for (let i = 0; i < 3; i++)
      await expect(call()).rejects.toMatchObject({ code: ServiceErrorCode.INTERNAL_ERROR });
    expect(states).toEqual([CircuitState.OPEN]);
    const before = { reached, fnCalls };
    for (let i = 0; i < 5; i++) {
      const error = await call().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ code: ServiceErrorCode.CIRCUIT_OPEN, retryable: false });
    }
    expect({ reached, fnCalls }).toEqual(before);
    expect(m.getCircuitBreaker('llm').getStats().state).toBe(CircuitState.OPEN);
  });

  it('opens the circuit on a dead endpoint', async () => {
    const s = await server({
      services: {
        tts: {
          Synthesize: (c) => c.end(),
          ListVoices: (_c, cb) => cb(null, {}),
          ReleaseAudio: (_c, cb) => cb(null, {}),
        },
      },
    });
    const port = s.port;
    await s.stop();
    // Three attempts of the first call are three failures: the third opens the circuit.
    const m = manager({ circuitBreaker: { failureThreshold: 3 } });
    const tts = m.createTTSClient({ host: '127.0.0.1', port }, ['tts:read']);
    const first = await m.executeServiceCall('tts', () => tts.promises.ListVoices({})).catch((e) => e);
    expect(first).toMatchObject({ code: ServiceErrorCode.SERVICE_UNAVAILABLE, retryable: true, attempts: 3 });
    let called = false;
    const second = await m
      .executeServiceCall('tts', () => {
        called = true;
        return tts.promises.ListVoices({});
      })
      .catch((e) => e);
    expect(second).toMatchObject({ code: ServiceErrorCode.CIRCUIT_OPEN });
    expect(called).toBe(false);
  });

  it('never counts INVALID_ARGUMENT or NOT_FOUND against the breaker, nor retries them', async () => {
    let calls = 0;
    const s = await server({
      services: {
        rag: {
          Retrieve: (call, callback) => {
            calls++;
            callback(
              call.request.query === ''
                ? { code: grpc.status.INVALID_ARGUMENT, details: 'query is empty' }
                : { code: grpc.status.NOT_FOUND, details: 'unknown user' },
            );
          },
          Upsert: (_c, cb) => cb(null, {}),
          Ingest: (_c, cb) => cb(null, {}),
          Delete: (_c, cb) => cb(null, {}),
          ClearCache: (_c, cb) => cb(null, {}),
        },
      },
    });
    const m = manager({ circuitBreaker: { failureThreshold: 2 } });
    const rag = m.createRAGClient(s.address, ['rag:read']);
    for (let i = 0; i < 4; i++) {
      await expect(
        m.executeServiceCall('rag', () => rag.promises.Retrieve({ query: '' })),
      ).rejects.toMatchObject({
        code: ServiceErrorCode.BAD_REQUEST,
      });
      await expect(
        m.executeServiceCall('rag', () => rag.promises.Retrieve({ query: 'q' })),
      ).rejects.toMatchObject({
        code: ServiceErrorCode.NOT_FOUND,
      });
    }
    expect(calls).toBe(8);
    expect(m.getCircuitBreaker('rag').getStats().state).toBe(CircuitState.CLOSED);
  });

  it('works for services that are unregistered or unhealthy; refusing them is an option', async () => {
    const s = await server({
      services: {
        asr: { Transcribe: (_c, cb) => cb(null, { transcript: 't' }), StreamTranscribe: (c) => c.end() },
      },
    });
    const m = manager();
    m.getServiceRegistry().register({
      serviceId: 'asr-1',
      serviceName: 'asr',
      host: '127.0.0.1',
      port: 1,
      protocol: 'grpc',
    });
    const asr = m.createASRClient(s.address, ['asr:read']);
    await expect(m.executeServiceCall('asr', () => asr.promises.Transcribe({}))).resolves.toMatchObject({
      transcript: 't',
    });
    await expect(m.executeServiceCall('not-registered', () => 42)).resolves.toBe(42);

    const strict = manager({ refuseUnhealthy: true, healthCheckIntervalMs: 1 });
    const registry = strict.getServiceRegistry();
    registry.register({
      serviceId: 'asr-dead',
      serviceName: 'asr',
      host: '127.0.0.1',
      port: 1,
      protocol: 'grpc',
    });
    const unhealthy = new Promise((resolve) =>
      strict.on('healthChanged', (e) => e.current === 'unhealthy' && resolve(e.serviceId)),
    );
    strict.startHealthChecks();
    await expect(unhealthy).resolves.toBe('asr-dead');
    let called = false;
    await expect(
      strict.executeServiceCall('asr', () => {
        called = true;
      }),
    ).rejects.toMatchObject({ code: ServiceErrorCode.SERVICE_UNAVAILABLE });
    expect(called).toBe(false);
  });

  it('resolves a service name through discovery', async () => {
    const s = await server({
      services: {
        asr: { Transcribe: (_c, cb) => cb(null, { transcript: 'found' }), StreamTranscribe: (c) => c.end() },
      },
    });
    const m = manager();
    m.getServiceRegistry().register({
      serviceId: 'asr-1',
      serviceName: 'asr',
      host: '127.0.0.1',
      port: s.port,
      protocol: 'grpc',
    });
    const asr = m.createClient('asr');
    await expect(m.executeServiceCall('asr', () => asr.promises.Transcribe({}))).resolves.toMatchObject({
      transcript: 'found',
    });
  });

  it('rejects bad arguments with BAD_REQUEST naming them, without touching the breaker', async () => {
    const m = manager();
    await expect(m.executeServiceCall('', async () => 1)).rejects.toMatchObject({
      code: ServiceErrorCode.BAD_REQUEST,
      message: expect.stringContaining('serviceName'),
    });
    await expect(m.executeServiceCall('asr', undefined as never)).rejects.toMatchObject({
      code: ServiceErrorCode.BAD_REQUEST,
      message: expect.stringContaining('fn must be a function'),
    });
    for (const [options, field] of [
      [{ correlationId: 'has spaces\nand a newline' }, 'correlationId'],
      [{ correlationId: '' }, 'correlationId'],
      [{ idempotent: 'yes' }, 'idempotent'],
      [{ signal: {} }, 'signal'],
      [null, 'options'],
    ] as const) {
      let called = false;
      const error = await m
        .executeServiceCall(
          'asr',
          () => {
            called = true;
          },
          options as never,
        )
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field } });
      expect(called).toBe(false);
    }
    expect(m.getCircuitBreaker('asr').getStats().totalFailures ?? 0).toBe(0);
    expect(() => m.createClient('nope' as never)).toThrow(/kind must be one of .*got "nope"/);
  });

  it('fails a call to a host that does not resolve with a ServiceError, as the seed sample expects', async () => {
    const m = manager();
    const asr = m.createASRClient({ host: 'asr-service.invalid', port: 50051 }, ['asr:read']);
    const error = await m
      .executeServiceCall(
        'asr',
        () => new Promise((resolve, reject) => asr.HealthCheck({}, (e, r) => (e ? reject(e) : resolve(r)))),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: ServiceErrorCode.SERVICE_UNAVAILABLE, service: 'asr' });
  });

  it("applies the breaker's timeout as the deadline of each attempt", async () => {
    let serverDeadline: grpc.Deadline | undefined;
    const s = await server({
      services: {
        llm: {
          Generate: (call) => {
            serverDeadline = call.getDeadline();
            // Never answers: only the deadline ends the call.
          },
          StreamGenerate: (call) => call.end(),
        },
      },
    });
    const m = manager({ circuitBreaker: { timeout: 200 }, retry: { maxAttempts: 1 } });
    const llm = m.createLLMClient(s.address, ['llm:read']);
    const before = Date.now();
    await expect(
      m.executeServiceCall('llm', () => llm.promises.Generate({ prompt: 'x' })),
    ).rejects.toMatchObject({
      code: ServiceErrorCode.TIMEOUT,
    });
    const seen = serverDeadline instanceof Date ? serverDeadline.getTime() : Number(serverDeadline);
    expect(seen).toBeLessThan(before + 10_000);
    // Work that is not a gRPC call of this package is timed out by the manager itself.
    await expect(m.executeServiceCall('llm', () => new Promise(() => {}))).rejects.toMatchObject({
      code: ServiceErrorCode.TIMEOUT,
      message: 'Call to llm timed out after 200 ms',
    });
  });

  it('refuses calls after close()', async () => {
    const m = manager();
    await m.close();
    await expect(m.executeServiceCall('asr', () => 1)).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
  });
});
