import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { HealthClient } from '@clone/service-discovery';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getCorrelationId } from './call-context';
import { ClientFactory } from './client-factory';
import { clientConstructor } from './protos';
import { ServiceCommunicationManager } from './service-communication-manager';
import { aheadClock } from './test-support/fixtures';
import { startServer, TEST_SECRET } from './test-support/servers';

const support = join(import.meta.dirname, 'test-support');

function runChild(file: string): { child: ReturnType<typeof spawn>; output: () => string } {
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', '--conditions=@clone/source', join(support, file)],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    out += d;
  });
  return { child, output: () => out };
}

function exited(
  child: ReturnType<typeof spawn>,
): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
}

describe('createServiceServer', () => {
  let server: Awaited<ReturnType<typeof startServer>>;
  const comm = new ServiceCommunicationManager({
    serviceId: 'ws-1',
    serviceName: 'websocket-server',
    jwtSecret: TEST_SECRET,
    tokenExpirySeconds: 3600,
    healthCheckIntervalMs: 30000,
    enableServiceDiscovery: false,
    retry: { maxAttempts: 1 },
  });

  beforeAll(async () => {
    server = await startServer({
      services: {
        rag: {
          Retrieve: async (call) => {
            if (call.request.query === 'missing') {
              throw new ServiceError(ServiceErrorCode.NOT_FOUND, 'no documents for user', 'rag');
            }
            if (call.request.query === 'busy') {
              throw new ServiceError(ServiceErrorCode.RATE_LIMIT_EXCEEDED, 'slow down', 'rag', {
                retryAfterMs: 250,
              });
            }
            return { documents: [{ document: { id: 'd1', content: call.request.query }, score: 1 }] };
          },
          Upsert: (_c, cb) => cb(null, { upserted: 1 }),
          Ingest: () => {
            throw new Error('disk full');
          },
          Delete: (_c, cb) => cb(null, {}),
          ClearCache: (_c, cb) => cb(null, {}),
        },
      },
      requirePermissions: { '/rag.RAGService/Upsert': ['rag:write'], rag: ['rag:read'] },
    });
  });

  afterAll(async () => {
    await comm.close();
    await server.stop();
  });

  it('serves grpc.health.v1 and each service HealthCheck without a token', async () => {
    const health = new HealthClient(server.address, grpc.credentials.createInsecure());
    try {
      const status = await new Promise((resolve, reject) =>
        health.Check({ service: 'rag.RAGService' }, (e, r) => (e ? reject(e) : resolve(r?.status))),
      );
      expect(status).toBe('SERVING');
    } finally {
      health.close();
    }
    const factory = new ClientFactory();
    try {
      const rag = factory.create('rag', server.address);
      await expect(rag.promises.HealthCheck({})).resolves.toMatchObject({
        status: 'SERVING',
        service: 'rag.RAGService',
      });
      await expect(rag.promises.Retrieve({ query: 'x' })).rejects.toMatchObject({
        code: ServiceErrorCode.UNAUTHORIZED,
      });
    } finally {
      factory.close();
    }
  });

  it('enforces permissions per service and per method', async () => {
    const reader = comm.createRAGClient(server.address, ['rag:read']);
    await expect(reader.promises.Retrieve({ query: 'hello' })).resolves.toMatchObject({
      documents: [{ document: { id: 'd1', content: 'hello' } }],
    });
    await expect(reader.promises.Upsert({ documents: [] })).rejects.toMatchObject({
      code: ServiceErrorCode.FORBIDDEN,
    });
    const writer = comm.createRAGClient(server.address, ['rag:read', 'rag:write']);
    await expect(writer.promises.Upsert({ documents: [] })).resolves.toMatchObject({ upserted: 1 });
  });

  it('sends a handler error as its ServiceError status, with pushback', async () => {
    const rag = comm.createRAGClient(server.address, ['rag:read']);
    await expect(rag.promises.Retrieve({ query: 'missing' })).rejects.toMatchObject({
      code: ServiceErrorCode.NOT_FOUND,
      message: 'no documents for user',
    });
    await expect(rag.promises.Retrieve({ query: 'busy' })).rejects.toMatchObject({
      code: ServiceErrorCode.RATE_LIMIT_EXCEEDED,
      retryAfterMs: 250,
    });
    await expect(rag.promises.Ingest({ content: 'x' })).rejects.toMatchObject({
      code: ServiceErrorCode.INTERNAL_ERROR,
    });
  });

  it('requires at least one service', async () => {
    await expect(startServer({ services: {} })).rejects.toMatchObject({ code: ServiceErrorCode.BAD_REQUEST });
  });

  it('takes time from its clock and correlation ids from its id source', async () => {
    const ahead = 7_200_000;
    const clock = aheadClock(ahead);
    const ids: string[] = [];
    const own = await startServer({
      auth: false,
      clock,
      createCorrelationId: () => 'server-made',
      services: {
        llm: {
          Generate: (_call, callback) => {
            ids.push(getCorrelationId() ?? '(none)');
            callback(null, { text: 'ok' });
          },
          StreamGenerate: (call) => call.end(),
        },
      },
    });
    const Ctor = clientConstructor('llm');
    // A bare grpc-js client: no correlation id is sent, so the server makes one.
    const bare = new Ctor(own.address, grpc.credentials.createInsecure()) as unknown as Record<
      'HealthCheck' | 'Generate',
      (request: unknown, callback: (e: unknown, r: { timestampMs?: number }) => void) => void
    > & { close(): void };
    try {
      const before = Date.now();
      const health = await new Promise<{ timestampMs?: number }>((resolve, reject) =>
        bare.HealthCheck({}, (e, r) => (e ? reject(e) : resolve(r))),
      );
      expect(Number(health.timestampMs)).toBeGreaterThanOrEqual(before + ahead);
      await new Promise((resolve, reject) =>
        bare.Generate({ prompt: 'x' }, (e, r) => (e ? reject(e) : resolve(r))),
      );
    } finally {
      bare.close();
      await own.stop();
    }
    expect(ids).toEqual(['server-made']);
  });

  it('refuses a reserved requirePermissions key, a shutdownTimeoutMs a timer cannot hold, an empty serviceName', async () => {
    const requirePermissions = JSON.parse('{"__proto__":["asr:read"]}');
    const handlers = { Transcribe: () => {}, StreamTranscribe: () => {} };
    await expect(startServer({ services: { asr: handlers }, requirePermissions })).rejects.toMatchObject({
      code: ServiceErrorCode.BAD_REQUEST,
      message: expect.stringContaining('__proto__'),
    });
    await expect(
      startServer({ services: { asr: handlers }, shutdownTimeoutMs: 2 ** 31 }),
    ).rejects.toMatchObject({
      code: ServiceErrorCode.BAD_REQUEST,
      message: expect.stringContaining('shutdownTimeoutMs'),
    });
    await expect(startServer({ services: { asr: handlers }, serviceName: ' ' })).rejects.toMatchObject({
      code: ServiceErrorCode.BAD_REQUEST,
      message: expect.stringContaining('serviceName'),
    });
  });

  it('drains in-flight calls on SIGTERM, then lets the signal end the process', async () => {
    const { child, output } = runChild('sigterm-child.ts');
    const done = exited(child);
    await new Promise<void>((resolve) => {
      const check = () => (/port \d+/.test(output()) ? resolve() : setTimeout(check, 10));
      check();
    });
    const port = Number(/port (\d+)/.exec(output())![1]);
    const factory = new ClientFactory();
    try {
      const tts = factory.create('tts', { host: '127.0.0.1', port });
      const call = tts.promises.ListVoices({});
      await new Promise<void>((resolve) => {
        const check = () => (output().includes('handling') ? resolve() : setTimeout(check, 5));
        check();
      });
      child.kill('SIGTERM');
      await expect(call).resolves.toMatchObject({ voices: [{ name: 'drained' }] });
    } finally {
      factory.close();
    }
    await expect(done).resolves.toEqual({ code: null, signal: 'SIGTERM' });
    expect(output()).toContain('answering, serving=NOT_SERVING');
  });
});

describe('ServiceCommunicationManager.close()', () => {
  it('leaves no handle: a process that used everything exits by itself', async () => {
    const { child, output } = runChild('close-child.ts');
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
    const result = await exited(child);
    clearTimeout(timer);
    expect(output()).toContain('closed');
    // A call still waiting for its answer at close() ends at once, not at its 30 s deadline.
    expect(output()).toContain('pending call ended with CANCELLED');
    // And so does one waiting between two attempts, not after its backoff.
    expect(output()).toContain('backing-off call ended with CANCELLED');
    expect(result).toEqual({ code: 0, signal: null });
  });
});
