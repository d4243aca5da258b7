import { ServiceRegistry } from '@clone/service-discovery';

const discovery = new ServiceRegistry({
  logger,
});

discovery.register({
  serviceId: 'auth-service-1',
  serviceName: 'auth-service',
  version: '1.0.0',
  host: 'auth-service',
  port: 3001,
  protocol: 'http',
  healthCheckUrl: 'http://auth-service:3001/health',
  metadata: {
    capabilities: ['authentication', 'user-management'],
  },
});
