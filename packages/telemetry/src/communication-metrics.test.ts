import { createServiceServer, ServiceCommunicationManager } from '@clone/grpc-proto';
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { afterEach, describe, expect, it } from 'vitest';
import { testMeters } from '../test/sdk';
import { instrumentCommunication } from './communication-metrics';
import { MetricNames as M } from './metric-names';

const SECRET = 'telemetry-test-secret-0123456789-abcdefghijklmnop';
const open: Array<() => Promise<unknown>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

function setup() {
  const meters = testMeters();
  const comm = new ServiceCommunicationManager({
    serviceId: 'caller-1',
    serviceName: 'caller',
    jwtSecret: SECRET,
    circuitBreaker: { failureThreshold: 2, resetTimeoutMs: 60_000 },
    retry: { maxAttempts: 2, initialDelayMs: 1, maxDelayMs: 1 },
  });
  const stop = instrumentCommunication(comm, { meterProvider: meters.meterProvider });
  open.push(async () => {
    stop();
    await comm.close();
    await meters.close();
  });
  return { comm, meters };
}

const unavailable = (): never => {
  throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'tts');
};

describe('instrumentCommunication', () => {
  it('records each call under the gRPC method it made (rpc.method), success and failure', async () => {
    const { comm, meters } = setup();
    let fail = false;
    const server = createServiceServer({
      serviceName: 'asr',
      auth: { jwtSecret: SECRET },
      handleSignals: false,
      services: {
        asr: {
          Transcribe: (_call, callback) =>
            fail ? callback({ code: 14, details: 'busy' }) : callback(null, { transcript: 'hi' }),
          StreamTranscribe: (call) => call.end(),
        },
      },
    });
    const port = await server.listen(0, '127.0.0.1');
    open.push(async () => {
      server.server.forceShutdown();
      await server.shutdown();
    });
    const asr = comm.createASRClient({ host: '127.0.0.1', port });
    const transcribe = () =>
      comm.executeServiceCall('asr', () =>
        asr.promises.Transcribe({ sessionId: 's', audio: Buffer.from('x') } as never),
      );
    await transcribe();
    await transcribe();
    fail = true;
    await expect(transcribe()).rejects.toMatchObject({ grpcStatus: 14 });
    const byMethod = { 'rpc.service': 'asr', 'rpc.method': 'Transcribe' };
    expect(await meters.value(M.rpcClientDuration, { ...byMethod, 'rpc.grpc.status_code': 0 })).toBe(2);
    expect(await meters.value(M.rpcClientDuration, { ...byMethod, 'rpc.grpc.status_code': 14 })).toBe(1);
  });

  it('records call latencies per service with the rpc conventions and the gRPC status', async () => {
    const { comm, meters } = setup();
    await comm.executeServiceCall('asr', async () => 'ok');
    await comm.executeServiceCall('asr', async () => 'ok');
    await expect(comm.executeServiceCall('llm', unavailable)).rejects.toThrow('down');
    const points = await meters.points(M.rpcClientDuration);
    const asr = points.find((p) => p.attributes['rpc.service'] === 'asr');
    expect(asr?.attributes).toMatchObject({ 'rpc.system': 'grpc', 'rpc.grpc.status_code': 0 });
    expect(await meters.value(M.rpcClientDuration, { 'rpc.service': 'asr' })).toBe(2);
    expect(
      await meters.value(M.rpcClientDuration, { 'rpc.service': 'llm', 'rpc.grpc.status_code': 14 }),
    ).toBe(1);
  });

  it('records retry attempts and give-ups', async () => {
    const { comm, meters } = setup();
    await expect(comm.executeServiceCall('tts', unavailable, { idempotent: true })).rejects.toThrow();
    expect(
      await meters.value(M.retryAttempts, { 'rpc.service': 'tts', 'error.type': 'SERVICE_UNAVAILABLE' }),
    ).toBe(1);
    expect(await meters.value(M.retryGiveUps, { 'rpc.service': 'tts' })).toBe(1);
  });

  it('records circuit state changes, the state gauge and open-circuit rejections', async () => {
    const { comm, meters } = setup();
    expect(await meters.value(M.circuitState, { 'rpc.service': 'tts' })).toBe(0);
    await comm.executeServiceCall('tts', async () => 'ok');
    expect(await meters.value(M.circuitState, { 'rpc.service': 'tts' })).toBe(0);
    // Two failed attempts (one retry) reach the threshold of 2: the circuit opens.
    await expect(comm.executeServiceCall('tts', unavailable)).rejects.toMatchObject({
      code: 'SERVICE_UNAVAILABLE',
    });
    await expect(comm.executeServiceCall('tts', unavailable)).rejects.toMatchObject({ code: 'CIRCUIT_OPEN' });
    expect(await meters.value(M.circuitState, { 'rpc.service': 'tts' })).toBe(2);
    expect(
      await meters.value(M.circuitTransitions, {
        'rpc.service': 'tts',
        'clone.circuit.from': 'CLOSED',
        'clone.circuit.to': 'OPEN',
      }),
    ).toBe(1);
    expect(await meters.value(M.circuitRejections, { 'rpc.service': 'tts' })).toBe(1);
  });

  it('stops recording once stopped', async () => {
    const meters = testMeters();
    const comm = new ServiceCommunicationManager({ serviceId: 'c-1', serviceName: 'c', jwtSecret: SECRET });
    open.push(async () => {
      await comm.close();
      await meters.close();
    });
    instrumentCommunication(comm, { meterProvider: meters.meterProvider })();
    await comm.executeServiceCall('asr', async () => 'ok');
    expect(await meters.value(M.rpcClientDuration)).toBe(0);
  });

  it('refuses a bad option by name', () => {
    const { comm } = setup();
    expect(() => instrumentCommunication(comm, { meterProvider: {} as never })).toThrow(/meterProvider/);
  });
});
