import { ServiceCommunicationManager } from '@clone/grpc-proto';

// Initialize the communication manager
const commManager = new ServiceCommunicationManager({
  serviceId: 'websocket-server-1',
  serviceName: 'websocket-server',
  jwtSecret: process.env.JWT_SECRET!,
  tokenExpirySeconds: 3600,
  healthCheckIntervalMs: 30000,
  enableServiceDiscovery: true,
});

// Register services
const registry = commManager.getServiceRegistry();
registry.register({
  serviceId: 'asr-service-1',
  serviceName: 'asr',
  host: 'asr-service',
  port: 50051,
  protocol: 'grpc',
  healthCheckUrl: '/health',
});

// Start health checks
commManager.startHealthChecks();
