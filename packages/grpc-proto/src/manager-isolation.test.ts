import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import * as grpc from '@grpc/grpc-js';
import { describe, expect, it, vi } from 'vitest';
import type { ServiceCommunicationManager } from './service-communication-manager';
import { testManager, useCleanups } from './test-support/fixtures';
import { startServer } from './test-support/servers';

// Two managers in one process (two tenants, a gateway and a worker), calls cancelled by close(),
// and tokens bound to their callee.

const defer = useCleanups();
const manager = (extra: Parameters<typeof testManager>[1] = {}) => testManager(defer, extra);

async function asrAnswering(transcript: string, extra: Partial<Parameters<typeof startServer>[0]> = {}) {
  const s = await startServer({
    services: {
      asr: { Transcribe: (_c, cb) => cb(null, { transcript }), StreamTranscribe: (c) => c.end() },
    },
    ...extra,
  });
  defer(() => s.stop());
  return s;
}

function register(m: ServiceCommunicationManager, serviceId: string, port: number): void {
  m.getServiceRegistry().register({
    serviceId,
    serviceName: 'asr',
    host: '127.0.0.1',
    port,
    protocol: 'grpc',
  });
}

describe('two managers in one process', () => {
  it('resolve through their own registries only, and closing one leaves the other working', async () => {
    const one = await asrAnswering('one');
    const two = await asrAnswering('two');
    const three = await asrAnswering('three');
    const m1 = manager();
    register(m1, 'asr-one', one.port);
    const m2 = manager({ serviceId: 'worker-1', serviceName: 'worker' });
    register(m2, 'asr-two', two.port);
    const c1 = m1.createClient('asr');
    const c2 = m2.createClient('asr');
    for (let i = 0; i < 4; i++) {
      await expect(c1.promises.Transcribe({})).resolves.toMatchObject({ transcript: 'one' });
      await expect(c2.promises.Transcribe({})).resolves.toMatchObject({ transcript: 'two' });
    }
    await m2.close();
    await expect(m1.executeServiceCall('asr', () => c1.promises.Transcribe({}))).resolves.toMatchObject({
      transcript: 'one',
    });
    // A client made after the other manager closed still resolves through its own registry.
    await expect(m1.createClient('asr').promises.Transcribe({})).resolves.toMatchObject({
      transcript: 'one',
    });
    // Manager 1's registry changes: its channels follow it.
    register(m1, 'asr-three', three.port);
    m1.getServiceRegistry().deregister('asr-one');
    await vi.waitFor(async () => {
      await expect(c1.promises.Transcribe({})).resolves.toMatchObject({ transcript: 'three' });
    });
  });
});

describe('ServiceCommunicationManager.close() and calls in flight', () => {
  it('cancels calls in flight at once with CANCELLED; later calls of its clients reject with ServiceError', async () => {
    const silent = await startServer({
      services: {
        llm: {
          Generate: () => {
            // Never answers: without close() only the deadline (here 10 minutes) would end it.
          },
          StreamGenerate: (call) => call.end(),
        },
      },
    });
    defer(() => silent.stop());
    const m = manager({ circuitBreaker: { timeout: 600_000 }, client: { defaultDeadlineMs: 600_000 } });
    const llm = m.createLLMClient(silent.address);
    const direct = llm.promises.Generate({ prompt: 'a' }).catch((e: unknown) => e);
    const managed = m
      .executeServiceCall('llm', () => llm.promises.Generate({ prompt: 'b' }))
      .catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await m.close();
    for (const error of [await direct, await managed]) {
      expect(error).toBeInstanceOf(ServiceError);
      expect(error).toMatchObject({ code: ServiceErrorCode.CANCELLED });
    }
    const later = await llm.promises.Generate({ prompt: 'c' }).catch((e: unknown) => e);
    expect(later).toBeInstanceOf(ServiceError);
    expect(later).toMatchObject({ code: ServiceErrorCode.CANCELLED });
    const viaCallback = await new Promise<grpc.ServiceError | null>((resolve) =>
      llm.Generate({ prompt: 'd' }, (e) => resolve(e)),
    );
    expect(viaCallback?.code).toBe(grpc.status.CANCELLED);
  });
});

describe('ServiceCommunicationManager.close() and calls waiting to retry', () => {
  it('wakes a call waiting between attempts: it ends at once with CANCELLED, not after its backoff', async () => {
    const down = await startServer({
      services: {
        asr: {
          Transcribe: (_c, cb) => cb({ code: grpc.status.UNAVAILABLE, details: 'warming up' }),
          StreamTranscribe: (c) => c.end(),
        },
      },
    });
    defer(() => down.stop());
    // Ten minutes between attempts: only close() can end the wait.
    const m = manager({ retry: { maxAttempts: 3, initialDelayMs: 600_000, maxDelayMs: 600_000 } });
    const asr = m.createASRClient(down.address);
    const waiting = new Promise<void>((resolve) => m.on('retry', () => resolve()));
    let attempts = 0;
    const call = m
      .executeServiceCall('asr', () => {
        attempts++;
        return asr.promises.Transcribe({});
      })
      .catch((e: unknown) => e);
    await waiting;
    await m.close();
    const outcome = await Promise.race([
      call,
      new Promise((resolve) => setTimeout(() => resolve('still waiting'), 5_000).unref()),
    ]);
    expect(outcome).toBeInstanceOf(ServiceError);
    expect(outcome).toMatchObject({ code: ServiceErrorCode.CANCELLED });
    // The woken attempt did not run: the manager was closed.
    expect(attempts).toBe(1);
  });
});

describe('tokens bound to their callee', () => {
  it('sends aud = the callee by default; a server told its name refuses tokens for another', async () => {
    const a = await asrAnswering('at a', { serviceName: 'asr' });
    const b = await asrAnswering('at b', { serviceName: 'asr-b' });
    const m = manager();
    // The default client of the asr kind: its token names `asr`.
    await expect(m.createASRClient(a.address).promises.Transcribe({})).resolves.toMatchObject({
      transcript: 'at a',
    });
    // The same token replayed at another service trusting the same key is refused.
    const error = await m
      .createASRClient(b.address)
      .promises.Transcribe({})
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ServiceError);
    expect(error).toMatchObject({ code: ServiceErrorCode.UNAUTHORIZED });
    // The per-client override still names whatever callee it is told.
    await expect(
      m.createClient('asr', b.address, undefined, { audience: 'asr-b' }).promises.Transcribe({}),
    ).resolves.toMatchObject({ transcript: 'at b' });
    // Through discovery, the audience is the resolved service name.
    m.getServiceRegistry().register({
      serviceId: 'asr-b-1',
      serviceName: 'asr-b',
      host: '127.0.0.1',
      port: b.port,
      protocol: 'grpc',
    });
    await expect(m.createClient('asr', 'asr-b').promises.Transcribe({})).resolves.toMatchObject({
      transcript: 'at b',
    });
  });
});
