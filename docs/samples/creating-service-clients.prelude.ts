// provides: commManager
import { ServiceCommunicationManager } from '@clone/grpc-proto';

/**
 * The manager the "Setting Up" sample builds. Creating clients opens no connection, so the
 * sample's hosts (`asr-service`, …) need not resolve; teardown closes their channels.
 */
export default async function setup() {
  const commManager = new ServiceCommunicationManager({
    serviceId: 'websocket-server-1',
    serviceName: 'websocket-server',
    jwtSecret: process.env.JWT_SECRET!,
    tokenExpirySeconds: 3600,
    healthCheckIntervalMs: 30000,
    enableServiceDiscovery: true,
  });
  return { commManager, teardown: () => commManager.close() };
}
