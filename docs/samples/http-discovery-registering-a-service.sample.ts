import { createServiceDiscoveryClient } from '@clone/service-discovery';

const discovery = createServiceDiscoveryClient({
  registryUrl: 'http://api-gateway:3000',
  logger,
});

await discovery.register({
  name: 'auth-service',
  version: '1.0.0',
  port: 3001,
  healthCheckUrl: 'http://auth-service:3001/health',
  metadata: {
    capabilities: ['authentication', 'user-management'],
  },
});
