// provides: commManager, asrClient
import { readFileSync } from 'node:fs';
import { createServiceServer, protoPath, ServiceCommunicationManager } from '@clone/grpc-proto';

/**
 * A real ASR server on loopback, built from the package's shipped asr.proto, requiring a
 * token with `asr:read`; the manager of the "Setting Up" sample; and `asrClient` as "Creating
 * Service Clients" makes it, pointed at that server instead of the unresolvable `asr-service`.
 */
export default async function setup() {
  if (!readFileSync(protoPath('asr'), 'utf8').includes('rpc HealthCheck'))
    throw new Error('asr.proto is not shipped');
  const server = createServiceServer({
    auth: { jwtSecret: process.env.JWT_SECRET! },
    services: {
      asr: {
        Transcribe: async (call) => ({
          transcript: `${call.request.audio.length} bytes of audio`,
          confidence: 1,
        }),
        StreamTranscribe: (call) => call.end(),
        HealthCheck: (_call, callback) =>
          callback(null, {
            status: 'SERVING',
            service: 'asr.ASRService',
            version: '1.0.0',
            timestampMs: Date.now(),
          }),
      },
    },
    requirePermissions: { asr: ['asr:read'] },
    publicMethods: [],
    handleSignals: false,
  });
  const port = await server.listen(0, '127.0.0.1');
  const commManager = new ServiceCommunicationManager({
    serviceId: 'websocket-server-1',
    serviceName: 'websocket-server',
    jwtSecret: process.env.JWT_SECRET!,
    tokenExpirySeconds: 3600,
    healthCheckIntervalMs: 30000,
    enableServiceDiscovery: true,
  });
  const asrClient = commManager.createASRClient({ host: '127.0.0.1', port }, ['asr:read']);
  return {
    commManager,
    asrClient,
    teardown: async () => {
      await commManager.close();
      await server.shutdown();
    },
  };
}
