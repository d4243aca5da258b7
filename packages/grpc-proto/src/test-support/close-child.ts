// Run as its own process by service-communication-manager.test.ts: uses everything that holds
// handles (server, channels, health checks, a stream), closes, and must then exit by itself.
import { ServiceError, ServiceErrorCode } from '@clone/service-errors';
import { ServiceCommunicationManager } from '../service-communication-manager';
import { startServer, TEST_SECRET } from './servers';

const server = await startServer({
  handleSignals: true,
  services: {
    asr: {
      Transcribe: (_call, callback) => callback(null, { transcript: 'hi' }),
      StreamTranscribe: (call) => {
        call.on('data', () => call.write({ transcript: 'partial' }));
        call.on('end', () => call.end());
      },
    },
    llm: {
      // Never answers: only close() (or the 30 s default deadline) ends a call to it.
      Generate: () => {},
      StreamGenerate: (call) => call.end(),
    },
  },
});
const comm = new ServiceCommunicationManager({
  serviceId: 'child-1',
  serviceName: 'child',
  jwtSecret: TEST_SECRET,
  tokenExpirySeconds: 3600,
  healthCheckIntervalMs: 10,
  enableServiceDiscovery: true,
});
const registry = comm.getServiceRegistry();
registry.register({
  serviceId: 'asr-1',
  serviceName: 'asr',
  host: '127.0.0.1',
  port: server.port,
  protocol: 'grpc',
});
registry.register({
  serviceId: 'asr-2',
  serviceName: 'asr',
  // Refuses connections: an instance that fails its checks. (Not an unresolvable name: a DNS
  // lookup cannot be cancelled, and a slow resolver would hold the process for its own timeout.)
  host: '127.0.0.1',
  port: 1,
  protocol: 'grpc',
});
comm.startHealthChecks();
const direct = comm.createASRClient({ host: '127.0.0.1', port: server.port }, ['asr:read']);
const discovered = comm.createClient('asr');
await comm.executeServiceCall('asr', () => direct.promises.Transcribe({}));
await comm.executeServiceCall('asr', () => discovered.promises.Transcribe({}));
const stream = direct.StreamTranscribe();
// A stream still open at close() is cancelled, which grpc-js reports as an 'error' event (as
// for any failure of a stream: a stream user listens for it).
stream.on('error', (error: { code?: number }) =>
  process.stdout.write(`stream ended with code ${error.code}\n`),
);
stream.write({ sequence: 0 });
await new Promise((resolve) => stream.once('data', resolve));
stream.end();
const llm = comm.createLLMClient({ host: '127.0.0.1', port: server.port }, ['llm:read']);
const pending = comm
  .executeServiceCall('llm', () => llm.promises.Generate({ prompt: 'hang' }))
  .then(
    () => 'answered',
    (error: { code?: string }) => `${error.code}`,
  );
// A call waiting ten minutes before its next attempt: close() must end it too.
comm.configureService('flaky', { retry: { maxAttempts: 3, initialDelayMs: 600_000, maxDelayMs: 600_000 } });
const backingOff = comm
  .executeServiceCall('flaky', () => {
    throw new ServiceError(ServiceErrorCode.SERVICE_UNAVAILABLE, 'down', 'flaky', { retryable: true });
  })
  .then(
    () => 'answered',
    (error: { code?: string }) => `${error.code}`,
  );
// Let the call reach the server before closing.
await new Promise((resolve) => setTimeout(resolve, 100));
await comm.close();
process.stdout.write(`pending call ended with ${await pending}\n`);
process.stdout.write(`backing-off call ended with ${await backingOff}\n`);
await server.shutdown();
process.stdout.write('closed\n');
