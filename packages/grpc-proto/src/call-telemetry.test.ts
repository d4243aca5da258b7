// The manager's tracing hook: asked once per executeServiceCall, the policies run inside its
// scope, and the scope ends once with the outcome, the attempt count and the method called;
// asked once per gRPC call of the manager's clients, with the call's metadata to write into.
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { InterceptingCall } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { CallScope, CallTelemetry, RpcScope } from './call-telemetry';
import { managedClientFactory } from './client-factory';
import { ServiceCommunicationManager } from './service-communication-manager';
import { startServer, TEST_SECRET } from './test-support/servers';

const managers: ServiceCommunicationManager[] = [];
const servers: Array<{ stop(): Promise<void> }> = [];
afterEach(async () => {
  for (const m of managers.splice(0)) await m.close();
  for (const s of servers.splice(0)) await s.stop();
});

function manager(): ServiceCommunicationManager {
  const m = new ServiceCommunicationManager({
    serviceId: 'svc-1',
    serviceName: 'svc',
    jwtSecret: TEST_SECRET,
    retry: { maxAttempts: 3, initialDelayMs: 1, maxDelayMs: 1 },
  });
  managers.push(m);
  return m;
}

/** A hook recording what the manager asks of it; `inScope` tells whether code runs in `run`. */
function recordingHook() {
  const ended: Array<{
    service: string;
    error: ServiceError | undefined;
    attempts: number;
    method?: string | undefined;
  }> = [];
  const rpcs: Array<{ path: string; inScope: boolean; status?: number }> = [];
  let depth = 0;
  const hook: CallTelemetry = {
    startCall(service): CallScope {
      return {
        run<T>(fn: () => T): T {
          depth++;
          try {
            return fn();
          } finally {
            depth--;
          }
        },
        end: (error, attempts, method) =>
          void ended.push({ service, error, attempts, ...(method === undefined ? {} : { method }) }),
      };
    },
  };
  /** The same hook with `startRpc`: writes `x-trace: <n>` into each call's metadata. */
  const withRpc: CallTelemetry = {
    startCall: hook.startCall,
    startRpc(path, metadata): RpcScope {
      const rpc: { path: string; inScope: boolean; status?: number } = { path, inScope: depth > 0 };
      rpcs.push(rpc);
      metadata.set('x-trace', String(rpcs.length));
      return {
        end: (code) => {
          rpc.status = code;
        },
      };
    },
  };
  return { hook, withRpc, ended, rpcs, inScope: () => depth > 0 };
}

async function asrServer(fail: () => boolean) {
  const seen: string[] = [];
  const server = await startServer({
    serviceName: 'asr',
    services: {
      asr: {
        Transcribe: (call, callback) => {
          seen.push(String(call.metadata.get('x-trace')[0]));
          if (fail()) callback({ code: 14, details: 'busy' });
          else callback(null, { transcript: 'hi' });
        },
        StreamTranscribe: (call) => call.end(),
      },
    },
  });
  servers.push(server);
  return { server, seen };
}

const transcribe = { sessionId: 's', audio: Buffer.from('x'), encoding: 'LINEAR16', sampleRateHz: 16000 };

describe('useCallTelemetry', () => {
  it('runs each call inside the hook scope and ends it with the attempts on success', async () => {
    const comm = manager();
    const { hook, ended, inScope } = recordingHook();
    comm.useCallTelemetry(hook);
    let sawScope = false;
    await expect(
      comm.executeServiceCall('asr', () => {
        sawScope = inScope();
        return 42;
      }),
    ).resolves.toBe(42);
    expect(sawScope).toBe(true);
    expect(ended).toEqual([{ service: 'asr', error: undefined, attempts: 1 }]);
  });

  it('ends the scope once with the final error after every attempt', async () => {
    const comm = manager();
    const { hook, ended } = recordingHook();
    comm.useCallTelemetry(hook);
    const down = () => {
      throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'asr');
    };
    await expect(comm.executeServiceCall('asr', down, { idempotent: true })).rejects.toMatchObject({
      code: ServiceErrorCode.SERVICE_UNAVAILABLE,
    });
    expect(ended).toHaveLength(1);
    expect(ended[0]!.attempts).toBe(3);
    expect(ended[0]!.error?.code).toBe(ServiceErrorCode.SERVICE_UNAVAILABLE);
  });

  it('stops asking the hook once removed', async () => {
    const comm = manager();
    const { hook, ended } = recordingHook();
    const remove = comm.useCallTelemetry(hook);
    remove();
    await comm.executeServiceCall('asr', () => 1);
    expect(ended).toEqual([]);
  });

  it('asks startRpc for each gRPC call (each attempt), in the call scope, and ends it with the status', async () => {
    const comm = manager();
    const { withRpc, ended, rpcs } = recordingHook();
    comm.useCallTelemetry(withRpc);
    let n = 0;
    const { server, seen } = await asrServer(() => ++n < 3);
    const asr = comm.createASRClient(server.address);
    const events: unknown[] = [];
    comm.on('callSucceeded', (e) => events.push(e));
    await comm.executeServiceCall('asr', () => asr.promises.Transcribe(transcribe as never));
    // Three attempts, three rpc spans (the first started synchronously inside the call's scope;
    // a retry starts from a timer, in the scope's async context); what they wrote reached the server.
    expect(rpcs.map((r) => [r.path, r.status])).toEqual([
      ['/asr.ASRService/Transcribe', 14],
      ['/asr.ASRService/Transcribe', 14],
      ['/asr.ASRService/Transcribe', 0],
    ]);
    expect(rpcs[0]!.inScope).toBe(true);
    expect(seen).toEqual(['1', '2', '3']);
    expect(ended).toEqual([{ service: 'asr', error: undefined, attempts: 3, method: 'Transcribe' }]);
    expect(events).toEqual([expect.objectContaining({ service: 'asr', attempts: 3, method: 'Transcribe' })]);
  });

  it('gives a gRPC call outside executeServiceCall its rpc span, and a failed call its method', async () => {
    const comm = manager();
    const { withRpc, ended, rpcs } = recordingHook();
    comm.useCallTelemetry(withRpc);
    const { server } = await asrServer(() => true);
    const asr = comm.createASRClient(server.address);
    await expect(asr.promises.Transcribe(transcribe as never)).rejects.toMatchObject({ grpcStatus: 14 });
    expect(rpcs).toEqual([{ path: '/asr.ASRService/Transcribe', inScope: false, status: 14 }]);
    const failed: unknown[] = [];
    comm.on('callFailed', (e) => failed.push(e));
    await expect(
      comm.executeServiceCall('asr', () => asr.promises.Transcribe(transcribe as never), {
        idempotent: false,
      }),
    ).rejects.toMatchObject({ grpcStatus: 14 });
    expect(ended).toEqual([expect.objectContaining({ attempts: 1, method: 'Transcribe' })]);
    expect(failed).toEqual([expect.objectContaining({ method: 'Transcribe', attempts: 1 })]);
  });

  it('starts no span for a call refused before it starts, and ends each started one exactly once', async () => {
    const { withRpc, rpcs } = recordingHook();
    const ends: number[] = [];
    const hook: CallTelemetry = {
      startCall: withRpc.startCall,
      startRpc(path, metadata) {
        const rpc = withRpc.startRpc!(path, metadata)!;
        return {
          end: (code, details) => {
            ends.push(code);
            rpc.end(code, details);
          },
        };
      },
    };
    const { server } = await asrServer(() => false);
    const factory = managedClientFactory({}, () => hook);
    const refusedToken = factory.create('asr', server.address, {
      token: {
        get: () => {
          throw new Error('no signing key');
        },
        invalidate: () => {},
      },
    });
    await expect(refusedToken.promises.Transcribe(transcribe as never)).rejects.toMatchObject({
      grpcStatus: 16,
    });
    // An interceptor further in throws on start: the span started is ended, with INTERNAL.
    const broken = factory.create('asr', server.address, {
      interceptors: [
        (options, next) =>
          new InterceptingCall(next(options), {
            start() {
              throw new Error('broken interceptor');
            },
          }),
      ],
    });
    await expect(broken.promises.Transcribe(transcribe as never)).rejects.toThrow('broken interceptor');
    expect(rpcs).toHaveLength(1);
    expect(ends).toEqual([13]);
    factory.close();
    await expect(refusedToken.promises.Transcribe(transcribe as never)).rejects.toMatchObject({
      grpcStatus: 1,
    });
    expect(rpcs).toHaveLength(1);
  });

  it('a hook that throws leaves the call untraced, not failed', async () => {
    const comm = manager();
    comm.useCallTelemetry({
      startCall: () => undefined,
      startRpc: () => ({
        end: () => {
          throw new Error('exporter broke');
        },
      }),
    });
    const { server } = await asrServer(() => false);
    const asr = comm.createASRClient(server.address);
    const warned = new Promise((resolve) => process.once('warning', resolve));
    await expect(asr.promises.Transcribe(transcribe as never)).resolves.toMatchObject({ transcript: 'hi' });
    expect(await warned).toMatchObject({ code: 'CLONE_HOOK_ERROR' });
  });

  it('refuses a hook without startCall, naming it', () => {
    const comm = manager();
    expect(() => comm.useCallTelemetry({} as CallTelemetry)).toThrow(
      expect.objectContaining({ code: ServiceErrorCode.BAD_REQUEST, metadata: { field: 'hook' } }),
    );
    const notAFunction = { startCall: () => undefined, startRpc: 'no' } as unknown as CallTelemetry;
    expect(() => comm.useCallTelemetry(notAFunction)).toThrow(
      expect.objectContaining({ code: 'BAD_REQUEST' }),
    );
  });
});
