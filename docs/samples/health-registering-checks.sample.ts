import { createHealthMonitor, HealthChecks } from '@clone/health';

const healthMonitor = createHealthMonitor({
  serviceName: 'auth-service',
  serviceVersion: '1.0.0',
  logger,
});

// Register built-in checks
healthMonitor.register(
  HealthChecks.database('postgres', async () => {
    return await db.ping();
  })
);

healthMonitor.register(
  HealthChecks.rabbitmq('rabbitmq', () => rabbitmq.isConnected())
);

healthMonitor.register(
  HealthChecks.httpService('access-service', 'http://access-service:3002')
);

// Add health routes
app.use(createHealthRoutes(healthMonitor));
