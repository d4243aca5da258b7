import { ServiceClient } from '@clone/http-client';

const accessClient = new ServiceClient({
  serviceName: 'access-service',
  discovery,
  logger,
  circuitBreaker: {
    failureThreshold: 5,
    resetTimeout: 60000,
  },
  retryPolicy: {
    maxRetries: 3,
    initialDelay: 1000,
  },
});

// Make requests
const response = await accessClient.get('/api/doors');
const door = await accessClient.post('/api/doors', { 
  name: 'Main Entrance',
  buildingId: '123',
});
